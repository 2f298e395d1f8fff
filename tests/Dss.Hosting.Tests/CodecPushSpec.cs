using System.Collections;
using System.Numerics;
using DarkSideSync.Hosting.Codec;
using DarkSideSync.Hosting.Tests.Support;

namespace DarkSideSync.Hosting.Tests;

/// <summary>.NET to Lua: what Lua code sees after <see cref="LuaCodec.Push"/>.</summary>
public sealed class CodecPushSpec : IDisposable
{
    private readonly LuaHarness lua = new();

    public void Dispose() => lua.Dispose();

    public enum Color { Red, Green, Blue = 7 }

    [Flags]
    public enum Access { None = 0, Read = 1, Write = 2 }

    public sealed record Line(string Sku, int Quantity, decimal Price, string? Note = null);

    public sealed record Order(string Id, List<Line> Lines, Dictionary<string, string>? Tags = null);

    public struct Point
    {
        public int X;
        public int Y { get; set; }
    }

    public sealed class Node
    {
        public string Name { get; set; } = "";
        public Node? Next { get; set; }
        public List<Node> Children { get; } = [];
    }

    public sealed class Throwing
    {
        public int Fine => 1;
        public int Broken => throw new InvalidOperationException("no value today");
    }

    private void Is(string luaCondition, object? value)
    {
        lua.SetGlobal("v", value);
        lua.Run($"assert({luaCondition}, 'not true: {luaCondition.Replace("'", "\\'", StringComparison.Ordinal)}')");
    }

    [Fact]
    public void Integers_and_floats_stay_apart_both_ways()
    {
        Is("math.type(v) == 'integer' and v == 3", 3);
        Is("math.type(v) == 'integer' and v == 3", 3L);
        Is("math.type(v) == 'float' and v == 3", 3.0);
        Is("math.type(v) == 'float' and v == 1", 1.0f);
        Is("math.type(v) == 'float' and v == 1", 1m);
        Is("math.type(v) == 'float' and v == 1.5", (Half)1.5);
        Assert.Equal(3L, lua.Eval<object>("3"));
        Assert.Equal(3.0, lua.Eval<object>("3.0"));
        Assert.IsType<double>(lua.Eval<object>("3.0"));
        Assert.IsType<long>(lua.Eval<object>("3"));
        Assert.IsType<double>(lua.Eval<object>("2^53"));
        Assert.IsType<long>(lua.Eval<object>("1 << 62"));
    }

    [Fact]
    public void Every_integer_type_becomes_a_Lua_integer()
    {
        object[] values = [(sbyte)-8, (byte)200, (short)-300, (ushort)60000, -70000, 4000000000u, -5L, 9000000000000000000ul, (Int128)(-42), (UInt128)42];
        string[] expected = ["-8", "200", "-300", "60000", "-70000", "4000000000", "-5", "9000000000000000000", "-42", "42"];
        for (int i = 0; i < values.Length; i++)
        {
            Is($"math.type(v) == 'integer' and v == {expected[i]}", values[i]);
        }
    }

    [Fact]
    public void Long_MinValue_and_MaxValue_cross_exactly()
    {
        Is("v == math.mininteger", long.MinValue);
        Is("v == math.maxinteger", long.MaxValue);
        Assert.Equal(long.MinValue, lua.Eval<long>("math.mininteger"));
        Assert.Equal(long.MaxValue, lua.Eval<object>("math.maxinteger"));
    }

    [Fact]
    public void A_ulong_above_long_MaxValue_is_refused()
    {
        LuaConversionException error = lua.Fails(() => LuaCodec.Push(lua.L, (object)ulong.MaxValue));
        Assert.Equal("value", error.Path);
        Assert.Contains("18446744073709551615", error.Message, StringComparison.Ordinal);
        error = lua.Fails(() => LuaCodec.Push(lua.L, new { Big = (UInt128)ulong.MaxValue + 1 }));
        Assert.Equal("value.Big", error.Path);
    }

    [Fact]
    public void NaN_infinities_and_negative_zero_cross_as_floats()
    {
        Is("v ~= v and math.type(v) == 'float'", double.NaN);
        Is("v == math.huge", double.PositiveInfinity);
        Is("v == -math.huge", float.NegativeInfinity);
        Is("v == 0 and 1 / v == -math.huge and math.type(v) == 'float'", -0.0);
        Assert.True(double.IsNaN(lua.Eval<double>("0/0")));
        Assert.True(double.IsNegative(lua.Eval<double>("-0.0")));
        Assert.True(double.IsNegative((double)lua.Eval<object>("-0.0")!));
        Assert.Equal(double.NegativeInfinity, lua.Eval<object>("-math.huge"));
    }

    [Fact]
    public void Strings_go_as_UTF8_with_embedded_zeros_intact()
    {
        Is("v == 'h\\195\\169\\0llo' and #v == 7", "hé\0llo");
        Is("v == '' and #v == 0", "");
        Is("#v == 4 and v == '\\240\\159\\152\\128'", "😀");
        Is("v == 'x'", 'x');
        Is("#v == 3 * 10000", new string('€', 10000));
        Assert.Equal("hé\0llo", lua.Eval<string>("'h\\195\\169\\0llo'"));
        Assert.Equal("", lua.Eval<object>("''"));
        Assert.Equal(new string('€', 10000), lua.RoundTrip(new string('€', 10000)));
    }

    [Fact]
    public void A_lone_surrogate_becomes_the_replacement_character()
    {
        Is("v == '\\239\\191\\189'", "\ud800");
    }

    [Fact]
    public void Byte_arrays_and_memory_go_as_raw_bytes()
    {
        byte[] bytes = [0, 255, 128, 10, 0];
        Is("#v == 5 and v:byte(1) == 0 and v:byte(2) == 255 and v:byte(3) == 128", bytes);
        Is("#v == 5 and v:byte(2) == 255", new ReadOnlyMemory<byte>(bytes));
        Is("#v == 2 and v:byte(1) == 255", new ArraySegment<byte>(bytes, 1, 2));
        Is("v == ''", Array.Empty<byte>());
        Assert.Equal(bytes, lua.RoundTrip(bytes));
        Assert.Equal(bytes, lua.RoundTrip(new ReadOnlyMemory<byte>(bytes)).ToArray());
    }

    [Fact]
    public void Enums_go_as_their_names_and_values_without_one_name_as_integers()
    {
        Is("v == 'Blue'", Color.Blue);
        Is("v == 'Write'", Access.Write);
        Is("v == 3 and math.type(v) == 'integer'", Access.Read | Access.Write);
        Is("v == 12", (Color)12);
        Assert.Equal(Color.Blue, lua.RoundTrip(Color.Blue));
        Assert.Equal(Access.Read | Access.Write, lua.RoundTrip(Access.Read | Access.Write));
    }

    [Fact]
    public void Guids_and_dates_go_as_ISO_strings_and_time_spans_as_seconds()
    {
        var id = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
        Is("v == '0f8fad5b-d9cb-469f-a165-70867728950e'", id);
        var when = new DateTimeOffset(2026, 12, 2, 1, 17, 0, TimeSpan.FromHours(1));
        Is("v == '2026-12-02T01:17:00.0000000+01:00'", when);
        Is("v == '2026-12-02'", new DateOnly(2026, 12, 2));
        Is("v == 1.5 and math.type(v) == 'float'", TimeSpan.FromMilliseconds(1500));
        Assert.Equal(id, lua.RoundTrip(id));
        Assert.Equal(when, lua.RoundTrip(when));
        var utc = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        Assert.Equal(utc, lua.RoundTrip(utc));
        Assert.Equal(DateTimeKind.Utc, lua.RoundTrip(utc).Kind);
        Assert.Equal(new TimeOnly(13, 14, 15), lua.RoundTrip(new TimeOnly(13, 14, 15)));
        Assert.Equal(TimeSpan.FromMinutes(90), lua.RoundTrip(TimeSpan.FromMinutes(90)));
    }

    [Fact]
    public void Arrays_lists_tuples_and_enumerables_become_sequences()
    {
        Is("#v == 3 and v[1] == 1 and v[3] == 3 and math.type(v[2]) == 'integer'", new[] { 1, 2, 3 });
        Is("#v == 2 and v[1] == 'a' and v[2] == 'b'", new List<string> { "a", "b" });
        Is("#v == 4 and v[4] == 4", Enumerable.Range(1, 4));
        Is("#v == 2 and v[1] == 1 and v[2] == 'x'", (1, "x"));
        Is("#v == 2 and v[2] == 2.5", Tuple.Create("a", 2.5));
        Is("#v == 2 and v[2] == true", new ArrayList { false, true });
        Is("#v == 3", new HashSet<int> { 1, 2, 3 });
        Is("#v == 3 and v[3] == 'c'", new Queue<string>(["a", "b", "c"]));
        Is("next(v) == nil", Array.Empty<int>());
        Is("#v == 2 and #v[1] == 2 and v[2][1] == 3", new[] { new[] { 1, 2 }, new[] { 3 } });
    }

    [Fact]
    public void A_null_in_a_sequence_is_refused_with_its_path()
    {
        LuaConversionException error = lua.Fails(() => LuaCodec.Push(lua.L, new List<string?> { "a", null }));
        Assert.Equal("value[2]", error.Path);
        Assert.Contains("nil", error.Message, StringComparison.Ordinal);
        error = lua.Fails(() => LuaCodec.Push(lua.L, new Order("o1", [new Line("a", 1, 1m), null!])));
        Assert.Equal("value.Lines[2]", error.Path);
        error = lua.Fails(() => LuaCodec.Push(lua.L, new int?[] { 1, null }));
        Assert.Equal("value[2]", error.Path);
    }

    [Fact]
    public void Dictionaries_become_tables_with_converted_keys()
    {
        Is("v.a == 1 and v['b c'] == 2", new Dictionary<string, int> { ["a"] = 1, ["b c"] = 2 });
        Is("v[1] == 'one' and v[-2] == 'minus two' and math.type(next(v)) == 'integer'", new Dictionary<long, string> { [1] = "one", [-2] = "minus two" });
        Is("v[true] == 'yes' and v[false] == 'no'", new Dictionary<bool, string> { [true] = "yes", [false] = "no" });
        Is("v[1.5] == 'a' and v[2] == 'b'", new Dictionary<double, string> { [1.5] = "a", [2.0] = "b" });
        Is("v.Red == 1 and v.Blue == 2", new Dictionary<Color, int> { [Color.Red] = 1, [Color.Blue] = 2 });
        Is("v.x == 1", new SortedDictionary<char, int> { ['x'] = 1 });
        Is("v.k == 'v'", new Hashtable { ["k"] = "v" });
        Is("v.a == 1 and v.b == 2", new List<KeyValuePair<string, int>> { new("a", 1), new("b", 2) });
        Is("v.a == 1", (IReadOnlyDictionary<string, int>)new Dictionary<string, int> { ["a"] = 1 });
        Is("next(v) == nil", new Dictionary<string, int>());
    }

    [Fact]
    public void An_integral_float_key_becomes_an_integer_key_as_in_Lua()
    {
        lua.SetGlobal("v", new Dictionary<double, string> { [2.0] = "two" });
        lua.Run("local k = next(v); assert(math.type(k) == 'integer' and k == 2)");
        Assert.Equal(new Dictionary<double, string> { [2.0] = "two" }, lua.Eval<Dictionary<double, string>>("v"));
    }

    [Fact]
    public void A_null_dictionary_value_leaves_its_key_out()
    {
        Is("v.a == 1 and v.b == nil and next(v, 'a') == nil", new Dictionary<string, object?> { ["a"] = 1, ["b"] = null });
    }

    [Fact]
    public void Keys_that_cannot_be_Lua_keys_are_refused()
    {
        LuaConversionException error = lua.Fails(() => LuaCodec.Push(lua.L, new Dictionary<double, int> { [double.NaN] = 1 }));
        Assert.Equal("value[nan]", error.Path);
        Assert.Contains("NaN", error.Message, StringComparison.Ordinal);
        error = lua.Fails(() => LuaCodec.Push(lua.L, new List<KeyValuePair<string?, int>> { new("a", 1), new(null, 2) }));
        Assert.Equal("value[null]", error.Path);
        Assert.Contains("null key", error.Message, StringComparison.Ordinal);
        error = lua.Fails(() => LuaCodec.Push(lua.L, new Dictionary<object, int> { [1] = 1, [1L] = 2 }));
        Assert.Equal("value[1]", error.Path);
        Assert.Contains("duplicate key", error.Message, StringComparison.Ordinal);
        error = lua.Fails(() => LuaCodec.Push(lua.L, new Dictionary<Line, int> { [new Line("a", 1, 1m)] = 1 }));
        Assert.Contains("as a Lua table key", error.Message, StringComparison.Ordinal);
        error = lua.Fails(() => LuaCodec.Push(lua.L, new List<KeyValuePair<string, int>> { new("a", 1), new("a", 2) }));
        Assert.Equal("value.a", error.Path);
        Assert.Contains("duplicate key", error.Message, StringComparison.Ordinal);
        error = lua.Fails(() => LuaCodec.Push(lua.L, new Dictionary<ulong, int> { [ulong.MaxValue] = 1 }));
        Assert.Equal("value[18446744073709551615]", error.Path);
    }

    [Fact]
    public void Records_classes_and_structs_become_tables_keyed_by_their_CSharp_names()
    {
        var order = new Order("o-1", [new Line("pen", 2, 1.25m), new Line("ink", 1, 3m, "blue")], new() { ["rush"] = "yes" });
        lua.SetGlobal("v", order);
        lua.Run("""
            assert(v.Id == 'o-1' and #v.Lines == 2)
            assert(v.Lines[1].Sku == 'pen' and math.type(v.Lines[1].Quantity) == 'integer' and v.Lines[1].Price == 1.25)
            assert(v.Lines[1].Note == nil and v.Lines[2].Note == 'blue' and v.Tags.rush == 'yes')
            assert(v.id == nil)
            """);
        Is("v.X == 3 and v.Y == 4", new Point { X = 3, Y = 4 });
        Is("v.price == 2 and v.name == 'x'", new { name = "x", price = 2 });
        Assert.Equal("value.Lines[2].Price", lua.Fails(() => LuaCodec.Push(lua.L,
            new { Id = "x", Lines = new object[] { new Line("a", 1, 1m), new { Price = (Action)(() => { }) } } })).Path);
    }

    [Fact]
    public void A_cycle_is_refused_naming_where_it_closes_and_where_it_started()
    {
        var a = new Node { Name = "a" };
        var b = new Node { Name = "b", Next = a };
        a.Next = b;
        LuaConversionException error = lua.Fails(() => LuaCodec.Push(lua.L, a));
        Assert.Equal("value.Next.Next", error.Path);
        Assert.Contains("cycle", error.Message, StringComparison.Ordinal);
        Assert.Contains("already being converted at value)", error.Message, StringComparison.Ordinal);
        var list = new List<object?>();
        list.Add(new Dictionary<string, object?> { ["self"] = list });
        error = lua.Fails(() => LuaCodec.Push(lua.L, list));
        Assert.Equal("value[1].self", error.Path);
    }

    [Fact]
    public void A_value_shared_by_two_branches_is_no_cycle()
    {
        var shared = new Line("s", 1, 1m);
        Is("v[1].Sku == 's' and v[2].Sku == 's' and v[1] ~= v[2]", new[] { shared, shared });
    }

    [Fact]
    public void More_than_100_nested_tables_are_refused()
    {
        object nested = 1;
        for (int i = 0; i < 100; i++)
        {
            nested = new List<object> { nested };
        }
        lua.SetGlobal("v", nested);
        lua.Run("local t, n = v, 0; while type(t) == 'table' do t, n = t[1], n + 1 end; assert(n == 100 and t == 1)");
        LuaConversionException error = lua.Fails(() => LuaCodec.Push(lua.L, new List<object> { nested }));
        Assert.Contains("too deep", error.Message, StringComparison.Ordinal);
        Assert.Equal("value" + string.Concat(Enumerable.Repeat("[1]", 100)), error.Path);
    }

    [Fact]
    public void Values_without_a_Lua_form_are_refused()
    {
        object[] refused =
        [
            (Func<int>)(() => 1), Task.CompletedTask, Task.FromResult(1), new ValueTask<int>(1), typeof(string),
            typeof(string).GetMethod("Trim", Type.EmptyTypes)!, (nint)5, new InvalidOperationException(), new object(),
            new BigInteger(5), new Uri("http://example.com"), new MemoryStream(), CancellationToken.None, new int[2, 2],
        ];
        foreach (object value in refused)
        {
            LuaConversionException error = lua.Fails(() => LuaCodec.Push(lua.L, value));
            Assert.Equal("value", error.Path);
            Assert.StartsWith("value: cannot push", error.Message, StringComparison.Ordinal);
        }
        Assert.Equal("value.Callback", lua.Fails(() => LuaCodec.Push(lua.L, new { Name = "x", Callback = (Action)(() => { }) })).Path);
    }

    [Fact]
    public void A_getter_that_throws_is_reported_with_its_path()
    {
        LuaConversionException error = lua.Fails(() => LuaCodec.Push(lua.L, new { Items = new[] { new Throwing() } }));
        Assert.Equal("value.Items[1].Broken", error.Path);
        Assert.IsType<InvalidOperationException>(error.InnerException);
        Assert.Contains("no value today", error.Message, StringComparison.Ordinal);
    }

    private static IEnumerable<int> Failing()
    {
        yield return 1;
        yield return 2;
        throw new InvalidOperationException("the source went away");
    }

    [Fact]
    public void An_enumeration_that_throws_is_reported_with_the_element_it_was_at()
    {
        LuaConversionException error = lua.Fails(() => LuaCodec.Push(lua.L, new { Items = Failing() }));
        Assert.Equal("value.Items[3]", error.Path);
        Assert.Contains("the source went away", error.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(error.InnerException);
    }

    [Fact]
    public void Errors_name_the_root_the_caller_gives()
    {
        LuaConversionException error = lua.Fails(() => LuaCodec.Push(lua.L, new Order("x", [new Line("a", 1, 1m), null!]), "args", 2));
        Assert.Equal("args[2].Lines[2]", error.Path);
        Assert.StartsWith("args[2].Lines[2]: ", error.Message, StringComparison.Ordinal);
        error = lua.Fails(() => LuaCodec.Push(lua.L, (object)ulong.MaxValue, "args", 1));
        Assert.Equal("args[1]", error.Path);
    }

    [Fact]
    public void A_failed_push_leaves_the_values_below_untouched()
    {
        lua.Lua.PushString("below");
        lua.Fails(() => LuaCodec.Push(lua.L, new { A = new[] { 1, 2 }, B = new Dictionary<string, object?> { ["x"] = new object() } }));
        Assert.Equal(1, lua.Top);
        Assert.Equal("below", lua.Lua.ToString(-1));
    }

    [Fact]
    public void A_sequence_of_100k_elements_crosses_both_ways()
    {
        int[] numbers = [.. Enumerable.Range(1, 100_000)];
        lua.SetGlobal("v", numbers);
        lua.Run("assert(#v == 100000 and v[100000] == 100000); local s = 0; for i = 1, #v do s = s + v[i] end; assert(s == 5000050000)");
        Assert.Equal(numbers, lua.Eval<int[]>("v"));
        var natural = Assert.IsType<List<object?>>(lua.Eval<object>("v"));
        Assert.Equal(100_000, natural.Count);
        Assert.Equal(100_000L, natural[^1]);
        lua.Run("w = {} for i = 1, 100000 do w[i] = { i = i, s = tostring(i) } end");
        List<Dictionary<string, object>>? records = lua.Eval<List<Dictionary<string, object>>>("w");
        Assert.Equal("77777", records![77776]["s"]);
    }
}
