using DarkSideSync.Hosting.Codec;
using DarkSideSync.Hosting.Tests.Support;

namespace DarkSideSync.Hosting.Tests;

/// <summary>Several results of a call read as one .NET value (<see cref="LuaCodec.ReadResults{T}"/>).</summary>
public sealed class CodecResultsSpec : IDisposable
{
    private readonly LuaHarness lua = new();

    public void Dispose() => lua.Dispose();

    public sealed record Price(string Name, double Amount);

    [Fact]
    public void A_tuple_takes_the_results_in_order()
    {
        Assert.Equal((1, "a", 2.5), lua.Results<(int, string, double)>("return 1, 'a', 2.5"));
        Assert.Equal((true, new Price("p", 2)), lua.Results<(bool, Price)>("return true, { name = 'p', amount = 2 }"));
        Assert.Equal((1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L), lua.Results<(long, long, long, long, long, long, long, long)>("return 1, 2, 3, 4, 5, 6, 7, 8"));
        Assert.Equal(ValueTuple.Create(5), lua.Results<ValueTuple<int>>("return 5"));
    }

    [Fact]
    public void A_tuple_reads_missing_results_as_nil()
    {
        Assert.Equal((42, (string?)null), lua.Results<(int, string?)>("return 42"));
        Assert.Equal((42, (int?)null), lua.Results<(int, int?)>("return 42"));
        Assert.Equal((42, (string?)null), lua.Results<(int, string?)>("return 42, nil"));
        LuaConversionException error = lua.Fails(() => lua.Results<(int, int)>("return 42"));
        Assert.Equal("result[2]", error.Path);
        Assert.Contains("no value", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tuple_refuses_no_results_and_too_many()
    {
        LuaConversionException error = lua.Fails(() => lua.Results<(int, int)>("return"));
        Assert.Equal("result", error.Path);
        Assert.Contains("0 results", error.Message, StringComparison.Ordinal);
        error = lua.Fails(() => lua.Results<(int, int)>("return 1, 2, 3"));
        Assert.Contains("3 results", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Arrays_take_every_result()
    {
        Assert.Equal([1L, "two", null, 4.0], lua.Results<object?[]>("return 1, 'two', nil, 4.0")!);
        Assert.Equal([1, 2, 3], lua.Results<int[]>("return 1, 2, 3")!);
        Assert.Empty(lua.Results<object?[]>("return")!);
        Assert.Equal([new List<object?> { 1L, 2L }], lua.Results<object?[]>("return { 1, 2 }")!);
    }

    [Fact]
    public void Any_other_type_reads_the_first_result()
    {
        Assert.Equal(7L, lua.Results<long>("return 7, 'ignored'"));
        Assert.Equal(new Price("p", 1.5), lua.Results<Price>("return { name = 'p', amount = 1.5 }"));
        Assert.Equal([1, 2], lua.Results<IReadOnlyList<int>>("return { 1, 2 }")!);
        Assert.Equal([1, 2], lua.Results<List<int>>("return { 1, 2 }, 'ignored'")!); // a list is one table
        Assert.Equal(new Dictionary<string, int> { ["a"] = 1 }, lua.Results<Dictionary<string, int>>("return { a = 1 }"));
        Assert.Null(lua.Results<object>("return"));
        Assert.Null(lua.Results<string>("return"));
        Assert.Null(lua.Results<int?>("return"));
    }

    [Fact]
    public void No_result_for_a_value_type_is_an_error()
    {
        LuaConversionException error = lua.Fails(() => lua.Results<int>("return"));
        Assert.Equal("result[1]", error.Path);
        Assert.Contains("cannot read Lua no value as int", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Errors_name_the_result_and_the_path_inside_it()
    {
        LuaConversionException error = lua.Fails(() => lua.Results<(int, Price)>("return 1, { name = 'p', amount = 'lots' }"));
        Assert.Equal("result[2].amount", error.Path);
        error = lua.Fails(() => lua.Results<object?[]>("return 1, { 1, { name = print } }"));
        Assert.Equal("result[2][2].name", error.Path);
        error = lua.Fails(() => lua.Results<Price>("return { name = 'p', amount = true }"));
        Assert.Equal("result[1].amount", error.Path);
    }

    [Fact]
    public void Results_above_other_values_are_read_from_first()
    {
        lua.Lua.PushString("below");
        (int first, int count) = lua.PushResults("return 10, 20");
        Assert.Equal((2, 2), (first, count));
        Assert.Equal((10, 20), LuaCodec.ReadResults<(int, int)>(lua.L, first, count));
        Assert.Equal(3, lua.Top);
    }
}
