using DarkSideSync.Hosting.Codec;
using DarkSideSync.Hosting.Tests.Support;

namespace DarkSideSync.Hosting.Tests;

public sealed class CodecSmokeSpec
{
    public sealed record Item(string Name, decimal Price, int Count = 1);

    [Fact]
    public void Smoke()
    {
        using var lua = new LuaHarness();
        lua.SetGlobal("x", new { a = 1, b = 2.0, c = "s", d = new[] { 1, 2, 3 }, e = new Dictionary<string, int> { ["k"] = 5 } });
        lua.Run("assert(x.a == 1 and math.type(x.a) == 'integer' and math.type(x.b) == 'float' and x.c == 's' and #x.d == 3 and x.e.k == 5)");
        var back = lua.Eval<object>("x");
        var dict = Assert.IsType<Dictionary<object, object?>>(back);
        Assert.Equal(1L, dict["a"]);
        Assert.Equal(new List<object?> { 1L, 2L, 3L }, dict["d"]);
        var item = lua.Eval<Item>("{ name = 'pen', price = 1.5 }");
        Assert.Equal(new Item("pen", 1.5m), item);
        var items = lua.Eval<List<Item>>("{ { name = 'pen', price = 1.5 }, { Name = 'ink', Price = 2, count = 3 } }");
        Assert.Equal([new Item("pen", 1.5m), new Item("ink", 2m, 3)], items);
        var e = lua.Fails(() => lua.Eval<List<Item>>("{ { name = 'pen', price = 1.5 }, { Name = 'ink', Price = 'x' } }"));
        Assert.Equal("value[2].Price", e.Path);
        Assert.Contains("string", e.Message, StringComparison.Ordinal);
    }
}
