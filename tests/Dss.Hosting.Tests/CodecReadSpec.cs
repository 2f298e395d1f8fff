using DarkSideSync.Hosting.Codec;
using DarkSideSync.Hosting.Tests.Support;

namespace DarkSideSync.Hosting.Tests;

/// <summary>Lua to .NET: values built by Lua code, read with <see cref="LuaCodec.Read{T}(nint, int)"/>.</summary>
public sealed class CodecReadSpec : IDisposable
{
    private readonly LuaHarness lua = new();

    public void Dispose() => lua.Dispose();

    public enum Side { Buy, Sell }

    [Flags]
    public enum Access { None = 0, Read = 1, Write = 2 }

    public sealed record Quote(string Symbol, decimal Price, int Lots = 1, string? Venue = null, Side Side = Side.Buy);

    public sealed class Settings
    {
        public int Retries { get; set; } = 3;
        public string Name { get; set; } = "default";
        public List<string> Hosts { get; set; } = ["localhost"];
        public double Timeout;
        public int ReadOnlyCount => 42;
    }

    public sealed class Account
    {
        public required string Owner { get; init; }
        public long Balance { get; init; }
    }

    public readonly record struct Vector(double X, double Y);

    public struct MutablePoint
    {
        public int X { get; set; }
        public int Y;
    }

    public sealed record Tree(string Name, List<Tree>? Children = null);

    [Fact]
    public void Natural_values_are_what_Lua_holds()
    {
        Assert.Null(lua.Eval<object>("nil"));
        Assert.Equal(true, lua.Eval<object>("true"));
        Assert.Equal(false, lua.Eval<object>("false"));
        Assert.Equal(42L, lua.Eval<object>("42"));
        Assert.Equal(0.5, lua.Eval<object>("0.5"));
        Assert.Equal("s", lua.Eval<object>("'s'"));
        Assert.Equal(new List<object?> { 1L, "two", 3.0, false }, lua.Eval<object>("{ 1, 'two', 3.0, false }"));
        Assert.Equal(
            new Dictionary<object, object?> { ["a"] = 1L, [1L] = "x", [2.5] = true, [true] = "t" },
            lua.Eval<object>("{ a = 1, [1] = 'x', [2.5] = true, [true] = 't' }"));
    }

    [Fact]
    public void An_empty_table_reads_as_an_empty_dictionary_and_as_an_empty_typed_list()
    {
        Assert.Equal(new Dictionary<object, object?>(), lua.Eval<object>("{}"));
        Assert.Empty(lua.Eval<List<int>>("{}")!);
        Assert.Empty(lua.Eval<string[]>("{}")!);
        Assert.Empty(lua.Eval<IReadOnlyList<Quote>>("{}")!);
        Assert.Empty(lua.Eval<Dictionary<string, int>>("{}")!);
    }

    [Fact]
    public void A_table_with_holes_or_extra_keys_is_a_dictionary_for_object_and_an_error_for_lists()
    {
        Assert.Equal(new Dictionary<object, object?> { [1L] = "a", [3L] = "c" }, lua.Eval<object>("{ 'a', nil, 'c' }"));
        Assert.Equal(new Dictionary<object, object?> { [1L] = "a", [2L] = "b", ["n"] = 2L }, lua.Eval<object>("{ 'a', 'b', n = 2 }"));
        Assert.Equal(new Dictionary<object, object?> { [2L] = "b" }, lua.Eval<object>("{ [2] = 'b' }"));
        Assert.Equal(new Dictionary<object, object?> { [0L] = "z", [1L] = "a" }, lua.Eval<object>("{ [0] = 'z', 'a' }"));
        LuaConversionException error = lua.Fails(() => lua.Eval<List<string>>("{ 'a', 'b', n = 2 }"));
        Assert.Equal("value", error.Path);
        Assert.Contains("not a sequence", error.Message, StringComparison.Ordinal);
        Assert.Contains("string \"n\"", error.Message, StringComparison.Ordinal);
        error = lua.Fails(() => lua.Eval<string[]>("{ [1] = 'a', [2] = 'b', [4] = 'd' }"));
        Assert.Contains("not a sequence", error.Message, StringComparison.Ordinal);
        error = lua.Fails(() => lua.Eval<int[]>("{ 1.5 }"));
        Assert.Equal("value[1]", error.Path);
    }

    [Fact]
    public void A_sparse_table_with_a_huge_border_allocates_no_huge_list()
    {
        lua.Run("t = {} for i = 0, 30 do t[1 << i] = i end");
        var natural = Assert.IsType<Dictionary<object, object?>>(lua.Eval<object>("t"));
        Assert.Equal(31, natural.Count);
        Assert.Contains("not a sequence", lua.Fails(() => lua.Eval<List<long>>("t")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Integer_targets_take_integers_and_integral_floats_range_checked()
    {
        Assert.Equal(3, lua.Eval<int>("3"));
        Assert.Equal(3, lua.Eval<int>("3.0"));
        Assert.Equal((byte)255, lua.Eval<byte>("255"));
        Assert.Equal(-128, lua.Eval<sbyte>("-128"));
        Assert.Equal(0, lua.Eval<int>("-0.0"));
        Assert.Equal(ulong.MaxValue - 2047, lua.Eval<ulong>("2^64 - 2048"));
        Assert.Equal(long.MinValue, lua.Eval<long>("-2^63"));
        Assert.Equal((Int128)long.MaxValue, lua.Eval<Int128>("math.maxinteger"));
        (string Expression, Type Target, string Why)[] refused =
        [
            ("256", typeof(byte), "out of range"), ("-1", typeof(uint), "out of range"), ("-1", typeof(ulong), "out of range"),
            ("2^31", typeof(int), "out of range"), ("3.5", typeof(long), "no integer representation"),
            ("0/0", typeof(int), "no integer representation"), ("math.huge", typeof(long), "no integer representation"),
            ("2^63", typeof(long), "out of range"), ("2^64", typeof(ulong), "out of range"), ("'3'", typeof(int), "string \"3\""),
            ("true", typeof(short), "boolean true"), ("nil", typeof(int), "nil"), ("{}", typeof(long), "table"),
        ];
        foreach ((string expression, Type target, string why) in refused)
        {
            LuaConversionException error = lua.Fails(() => lua.Eval(expression, target));
            Assert.Equal("value", error.Path);
            Assert.Contains(why, error.Message, StringComparison.Ordinal);
            Assert.Contains(TypeNamesFor(target), error.Message, StringComparison.Ordinal);
        }
    }

    private static string TypeNamesFor(Type target) => target == typeof(long) ? "long" : target == typeof(int) ? "int"
        : target == typeof(byte) ? "byte" : target == typeof(uint) ? "uint" : target == typeof(ulong) ? "ulong" : "short";

    [Fact]
    public void Float_targets_take_integers_and_floats()
    {
        Assert.Equal(3.0, lua.Eval<double>("3"));
        Assert.Equal(0.1, lua.Eval<double>("0.1"));
        Assert.Equal(2.5f, lua.Eval<float>("2.5"));
        Assert.Equal(float.PositiveInfinity, lua.Eval<float>("math.huge"));
        Assert.Equal(0.1m, lua.Eval<decimal>("0.1"));
        Assert.Equal(9007199254740993m, lua.Eval<decimal>("9007199254740993"));
        Assert.Equal((double)long.MaxValue, lua.Eval<double>("math.maxinteger"));
        Assert.Contains("out of range", lua.Fails(() => lua.Eval<float>("1e300")).Message, StringComparison.Ordinal);
        Assert.Contains("NaN", lua.Fails(() => lua.Eval<decimal>("0/0")).Message, StringComparison.Ordinal);
        Assert.Contains("out of range", lua.Fails(() => lua.Eval<decimal>("1e300")).Message, StringComparison.Ordinal);
        Assert.Contains("string", lua.Fails(() => lua.Eval<double>("'1.5'")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Booleans_come_only_from_booleans()
    {
        Assert.True(lua.Eval<bool>("true"));
        Assert.False(lua.Eval<bool>("false"));
        Assert.Null(lua.Eval<bool?>("nil"));
        Assert.Contains("integer 0", lua.Fails(() => lua.Eval<bool>("0")).Message, StringComparison.Ordinal);
        Assert.Contains("nil", lua.Fails(() => lua.Eval<bool>("nil")).Message, StringComparison.Ordinal);
        Assert.Contains("string", lua.Fails(() => lua.Eval<bool>("'true'")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Strings_come_only_from_strings_and_invalid_UTF8_decodes_with_replacement()
    {
        Assert.Equal("a\0b", lua.Eval<string>("'a\\0b'"));
        Assert.Equal("\ufffd(", lua.Eval<string>("'\\195\\40'"));
        Assert.Equal([195, 40], lua.Eval<byte[]>("'\\195\\40'"));
        Assert.Equal([195, 40], lua.Eval<ReadOnlyMemory<byte>>("'\\195\\40'").ToArray());
        Assert.Null(lua.Eval<string>("nil"));
        Assert.Equal('é', lua.Eval<char>("'é'"));
        LuaConversionException error = lua.Fails(() => lua.Eval<string>("12"));
        Assert.Contains("cannot read Lua integer 12 as string", error.Message, StringComparison.Ordinal);
        Assert.Contains("float 1.5", lua.Fails(() => lua.Eval<string>("1.5")).Message, StringComparison.Ordinal);
        Assert.Contains("exactly one", lua.Fails(() => lua.Eval<char>("'ab'")).Message, StringComparison.Ordinal);
        error = lua.Fails(() => lua.Eval<object>("{ ['\\255'] = 1, ['\\254'] = 2 }"));
        Assert.Contains("duplicate key", error.Message, StringComparison.Ordinal);
        Assert.Equal(new Dictionary<string, int> { ["\ufffd"] = 1 }, lua.Eval<Dictionary<string, int>>("{ ['\\255'] = 1 }"));
    }

    [Fact]
    public void Enums_come_from_names_ignoring_case_or_from_integers()
    {
        Assert.Equal(Side.Sell, lua.Eval<Side>("'Sell'"));
        Assert.Equal(Side.Sell, lua.Eval<Side>("'sell'"));
        Assert.Equal(Side.Sell, lua.Eval<Side>("1"));
        Assert.Equal(Access.Read | Access.Write, lua.Eval<Access>("'Read, Write'"));
        Assert.Equal(Access.Read | Access.Write, lua.Eval<Access>("3"));
        Assert.Contains("no such member", lua.Fails(() => lua.Eval<Side>("'Hold'")).Message, StringComparison.Ordinal);
        Assert.Contains("no such member", lua.Fails(() => lua.Eval<Access>("'3'")).Message, StringComparison.Ordinal);
        Assert.Contains("underlying type int", lua.Fails(() => lua.Eval<Side>("2^40")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Typed_sequences_read_each_element_as_their_element_type()
    {
        Assert.Equal([1, 2, 3], lua.Eval<int[]>("{ 1, 2, 3.0 }")!);
        Assert.Equal(["a", "b"], lua.Eval<List<string>>("{ 'a', 'b' }"));
        Assert.Equal([1.5, 2], lua.Eval<IEnumerable<double>>("{ 1.5, 2 }"));
        Assert.Equal([1L, 2L], lua.Eval<IList<long>>("{ 1, 2 }"));
        Assert.Equal([[1], [2, 3]], lua.Eval<int[][]>("{ {1}, {2, 3} }"));
        Assert.Equal([1L, "x"], lua.Eval<List<object>>("{ 1, 'x' }"));
        Assert.Equal((1, "a", 2.5), lua.Eval<(int, string, double)>("{ 1, 'a', 2.5 }"));
        Assert.Equal((1, 2, 3, 4, 5, 6, 7, 8, 9), lua.Eval<(int, int, int, int, int, int, int, int, int)>("{ 1, 2, 3, 4, 5, 6, 7, 8, 9 }"));
        Assert.Contains("exactly 2", lua.Fails(() => lua.Eval<(int, int)>("{ 1, 2, 3 }")).Message, StringComparison.Ordinal);
        LuaConversionException error = lua.Fails(() => lua.Eval<List<int>>("{ 1, 2, 'three' }"));
        Assert.Equal("value[3]", error.Path);
        Assert.Contains("cannot read Lua string \"three\" as int", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Typed_dictionaries_read_keys_and_values_as_their_types()
    {
        Assert.Equal(new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 }, lua.Eval<Dictionary<string, int>>("{ a = 1, b = 2 }"));
        Assert.Equal(new Dictionary<int, string> { [1] = "x", [5] = "y" }, lua.Eval<IDictionary<int, string>>("{ [1] = 'x', [5] = 'y' }"));
        Assert.Equal(new Dictionary<Side, double> { [Side.Buy] = 1, [Side.Sell] = 2 }, lua.Eval<IReadOnlyDictionary<Side, double>>("{ Buy = 1, sell = 2 }"));
        Assert.Equal(new Dictionary<object, string> { [1L] = "a", ["k"] = "b" }, lua.Eval<Dictionary<object, string>>("{ 'a', k = 'b' }"));
        LuaConversionException error = lua.Fails(() => lua.Eval<Dictionary<string, int>>("{ a = 1, [7] = 2 }"));
        Assert.Equal("value[7]", error.Path);
        Assert.StartsWith("value[7]: key: cannot read Lua integer 7 as string", error.Message, StringComparison.Ordinal);
        error = lua.Fails(() => lua.Eval<Dictionary<string, int>>("{ a = 1, b = 'x' }"));
        Assert.Equal("value.b", error.Path);
        Assert.DoesNotContain("key:", error.Message, StringComparison.Ordinal);
        error = lua.Fails(() => lua.Eval<Dictionary<Side, int>>("{ buy = 1, Buy = 2 }"));
        Assert.Contains("duplicate key", error.Message, StringComparison.Ordinal);
        error = lua.Fails(() => lua.Eval<object>("{ [{}] = 1 }"));
        Assert.Equal("value[table key]", error.Path);
        Assert.Contains("key: a Lua table key has no .NET form", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Records_come_from_tables_through_their_constructor_ignoring_key_case()
    {
        Assert.Equal(new Quote("ACME", 12.5m, 3, "XNAS", Side.Sell), lua.Eval<Quote>("{ symbol = 'ACME', PRICE = 12.5, Lots = 3, venue = 'XNAS', side = 'Sell' }"));
        Assert.Equal(new Quote("ACME", 12m), lua.Eval<Quote>("{ symbol = 'ACME', price = 12, extra = { 1, 2 }, [1] = 'ignored' }"));
        Assert.Equal(new Vector(1, 2.5), lua.Eval<Vector>("{ x = 1, y = 2.5 }"));
        Assert.Equal(new Tree("root", [new Tree("a"), new Tree("b", [])]), lua.Eval<Tree>("{ name = 'root', children = { { name = 'a' }, { name = 'b', children = {} } } }"), new TreeComparer());
        var anonymous = new { id = 0L, tags = (string[])[] };
        object? read = lua.Eval("{ id = 7, tags = { 'x' } }", anonymous.GetType());
        Assert.Equal(7L, read!.GetType().GetProperty("id")!.GetValue(read));
    }

    [Fact]
    public void A_missing_key_takes_the_default_or_null_or_is_an_error()
    {
        Quote quote = lua.Eval<Quote>("{ symbol = 'X', price = 1 }")!;
        Assert.Equal(1, quote.Lots);
        Assert.Null(quote.Venue);
        Assert.Equal(Side.Buy, quote.Side);
        LuaConversionException error = lua.Fails(() => lua.Eval<List<Quote>>("{ { symbol = 'X', price = 1 }, { symbol = 'Y' } }"));
        Assert.Equal("value[2].Price", error.Path);
        Assert.Contains("missing key \"Price\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("constructor parameter Price", error.Message, StringComparison.Ordinal);
        error = lua.Fails(() => lua.Eval<Account>("{ balance = 5 }"));
        Assert.Equal("value.Owner", error.Path);
        Assert.Contains("required member Owner", error.Message, StringComparison.Ordinal);
        Assert.Equal(5, lua.Eval<Account>("{ owner = 'me', balance = 5 }")!.Balance);
    }

    [Fact]
    public void A_class_with_a_parameterless_constructor_gets_its_settable_members_and_keeps_the_rest()
    {
        Settings settings = lua.Eval<Settings>("{ retries = 5, timeout = 2.5, readonlycount = 1, unknown = true }")!;
        Assert.Equal(5, settings.Retries);
        Assert.Equal(2.5, settings.Timeout);
        Assert.Equal("default", settings.Name);
        Assert.Equal(["localhost"], settings.Hosts);
        MutablePoint point = lua.Eval<MutablePoint>("{ X = 1, y = 2 }");
        Assert.Equal((1, 2), (point.X, point.Y));
        Assert.Equal(default, lua.Eval<MutablePoint>("{}"));
        Assert.Null(lua.Eval<Settings>("nil"));
    }

    [Fact]
    public void Two_keys_for_one_member_are_an_error()
    {
        LuaConversionException error = lua.Fails(() => lua.Eval<Quote>("{ symbol = 'a', Symbol = 'b', price = 1 }"));
        Assert.Contains("another key also matches Quote.Symbol", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Functions_userdata_and_threads_are_refused_with_their_path()
    {
        lua.Run("f = { items = { 1, { price = print } } }");
        LuaConversionException error = lua.Fails(() => lua.Eval<object>("f"));
        Assert.Equal("value.items[2].price", error.Path);
        Assert.Contains("function", error.Message, StringComparison.Ordinal);
        Assert.Equal("value", lua.Fails(() => lua.Eval<object>("coroutine.create(print)")).Path);
        Assert.Contains("thread", lua.Fails(() => lua.Eval<object>("coroutine.create(print)")).Message, StringComparison.Ordinal);
        Assert.Contains("userdata", lua.Fails(() => lua.Eval<object>("io.stdout")).Message, StringComparison.Ordinal);
        Assert.Contains("function", lua.Fails(() => lua.Eval<string>("print")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_table_that_contains_itself_is_refused_and_a_shared_one_is_not()
    {
        lua.Run("t = { name = 'loop', child = { } }; t.child.parent = t");
        LuaConversionException error = lua.Fails(() => lua.Eval<object>("t"));
        Assert.Equal("value.child.parent", error.Path);
        Assert.Contains("cycle", error.Message, StringComparison.Ordinal);
        Assert.Contains("already being converted at value)", error.Message, StringComparison.Ordinal);
        lua.Run("s = { 1 }; u = { s, s, { s } }");
        Assert.Equal(new List<object?> { new List<object?> { 1L }, new List<object?> { 1L }, new List<object?> { new List<object?> { 1L } } }, lua.Eval<object>("u"));
        lua.Run("r = { }; r[1] = r");
        Assert.Equal("value[1]", lua.Fails(() => lua.Eval<List<object>>("r")).Path);
    }

    [Fact]
    public void More_than_100_nested_tables_are_refused()
    {
        lua.Run("function nest(n) local t = 1 for i = 1, n do t = { t } end return t end");
        Assert.IsType<List<object?>>(lua.Eval<object>("nest(100)"));
        LuaConversionException error = lua.Fails(() => lua.Eval<object>("nest(101)"));
        Assert.Contains("too deep", error.Message, StringComparison.Ordinal);
        Assert.Equal("value" + string.Concat(Enumerable.Repeat("[1]", 100)), error.Path);
        Assert.Contains("too deep", lua.Fails(() => lua.Eval<object>("nest(5000)")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Metamethods_never_run()
    {
        lua.Run("""
            calls = 0
            local function boom() calls = calls + 1; error('metamethod ran') end
            proxy = setmetatable({ symbol = 'P', price = 1 }, { __index = boom, __newindex = boom, __pairs = boom, __len = boom, __eq = boom })
            empty = setmetatable({}, { __index = function(t, k) calls = calls + 1; return 1 end, __len = function() return 3 end })
            """);
        Assert.Equal(new Quote("P", 1m), lua.Eval<Quote>("proxy"));
        Assert.Equal(new Dictionary<object, object?>(), lua.Eval<object>("empty"));
        Assert.Empty(lua.Eval<List<int>>("empty")!);
        Assert.Contains("missing key", lua.Fails(() => lua.Eval<Quote>("empty")).Message, StringComparison.Ordinal);
        Assert.Equal(0L, lua.Eval<long>("calls"));
    }

    [Fact]
    public void Reading_takes_relative_and_absolute_indices_and_leaves_the_stack_as_it_was()
    {
        lua.PushExpression("{ 1, 2 }");
        lua.PushExpression("'x'");
        Assert.Equal([1, 2], LuaCodec.Read<int[]>(lua.L, -2)!);
        Assert.Equal([1, 2], LuaCodec.Read<int[]>(lua.L, 1)!);
        Assert.Equal("x", LuaCodec.Read(lua.L, 2, typeof(string)));
        Assert.Equal(2, lua.Top);
        Assert.Null(LuaCodec.Read<object>(lua.L, 3));
        Assert.Equal("args[2]", lua.Fails(() => LuaCodec.Read<int>(lua.L, 2, "args", 2)).Path);
        Assert.Equal(2, lua.Top);
    }

    public sealed record Checked
    {
        public Checked(int value) => Value = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "must not be negative");

        public int Value { get; }
    }

    [Fact]
    public void A_constructor_that_throws_is_reported_with_its_path()
    {
        Assert.Equal(3, lua.Eval<Checked>("{ value = 3 }")!.Value);
        LuaConversionException error = lua.Fails(() => lua.Eval<Checked[]>("{ { value = 1 }, { value = -1 } }"));
        Assert.Equal("value[2]", error.Path);
        Assert.Contains("must not be negative", error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.InnerException);
    }

    [Fact]
    public void Targets_the_codec_cannot_create_are_refused_with_their_path()
    {
        foreach (Type target in new[] { typeof(Func<int>), typeof(Stream), typeof(IComparable), typeof(Task<int>), typeof(Uri), typeof(int[,]), typeof(Type) })
        {
            LuaConversionException error = lua.Fails(() => lua.Eval("{}", target));
            Assert.Equal("value", error.Path);
            Assert.Contains("cannot read a value as", error.Message, StringComparison.Ordinal);
        }
        Assert.Equal("value.f[1]", lua.Fails(() => lua.Eval<Dictionary<string, List<Action>>>("{ f = { 1 } }")).Path);
    }

    [Fact]
    public void Invalid_stack_indices_are_refused_before_Lua_sees_them()
    {
        lua.PushExpression("1");
        Assert.Throws<ArgumentOutOfRangeException>(() => LuaCodec.Read<long>(lua.L, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => LuaCodec.Read<long>(lua.L, -2));
        Assert.Throws<ArgumentOutOfRangeException>(() => LuaCodec.Read(lua.L, -2, typeof(object)));
        Assert.Throws<ArgumentOutOfRangeException>(() => LuaCodec.ReadResults<long[]>(lua.L, 1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => LuaCodec.ReadResults<long[]>(lua.L, 0, 1));
        Assert.Equal(1L, LuaCodec.Read<long>(lua.L, -1));
        Assert.Equal(1, lua.Top);
    }

    private sealed class TreeComparer : IEqualityComparer<Tree?>
    {
        public bool Equals(Tree? x, Tree? y) => x is null || y is null
            ? x is null && y is null
            : x.Name == y.Name && (x.Children ?? []).SequenceEqual(y.Children ?? [], this) && (x.Children is null) == (y.Children is null);

        public int GetHashCode(Tree? obj) => obj?.Name.GetHashCode(StringComparison.Ordinal) ?? 0;
    }
}
