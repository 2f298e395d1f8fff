using DarkSideSync.Hosting.Codec;
using DarkSideSync.Hosting.Tests.Support;
using KeraLua;

namespace DarkSideSync.Hosting.Tests;

/// <summary>The hot conversions allocate nothing on the managed heap once warm (bytes counted on this thread).</summary>
public sealed class CodecAllocationSpec : IDisposable
{
    private const int Rounds = 10_000;

    private readonly LuaHarness lua = new();

    public void Dispose() => lua.Dispose();

    private long AllocatedBy(Action action)
    {
        action(); // warm: readers, pushers, JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Rounds; i++)
        {
            action();
        }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void Pushing_ints_longs_doubles_bools_and_strings_allocates_nothing()
    {
        nint L = lua.L;
        string text = new('x', 1000);
        object boxed = 42;
        Assert.Equal(0, AllocatedBy(() => { LuaCodec.Push(L, 42); lua.Lua.Pop(1); }));
        Assert.Equal(0, AllocatedBy(() => { LuaCodec.Push(L, 42L); lua.Lua.Pop(1); }));
        Assert.Equal(0, AllocatedBy(() => { LuaCodec.Push(L, 4.5); lua.Lua.Pop(1); }));
        Assert.Equal(0, AllocatedBy(() => { LuaCodec.Push(L, true); lua.Lua.Pop(1); }));
        Assert.Equal(0, AllocatedBy(() => { LuaCodec.Push(L, boxed); lua.Lua.Pop(1); }));
        Assert.Equal(0, AllocatedBy(() => { LuaCodec.Push(L, "short"); lua.Lua.Pop(1); }));
        Assert.Equal(0, AllocatedBy(() => { LuaCodec.Push(L, text); lua.Lua.Pop(1); }));
        Assert.Equal(0, AllocatedBy(() => { LuaCodec.Push(L, (object?)null); lua.Lua.Pop(1); }));
    }

    [Fact]
    public void Reading_longs_doubles_ints_and_bools_allocates_nothing()
    {
        nint L = lua.L;
        lua.PushExpression("7");
        lua.PushExpression("2.5");
        lua.PushExpression("true");
        Assert.Equal(0, AllocatedBy(() => LuaCodec.Read<long>(L, 1)));
        Assert.Equal(0, AllocatedBy(() => LuaCodec.Read<int>(L, 1)));
        Assert.Equal(0, AllocatedBy(() => LuaCodec.Read<double>(L, 2)));
        Assert.Equal(0, AllocatedBy(() => LuaCodec.Read<double>(L, 1)));
        Assert.Equal(0, AllocatedBy(() => LuaCodec.Read<bool>(L, 3)));
        Assert.Equal(0, AllocatedBy(() => LuaCodec.Read<short>(L, 1)));
        Assert.Equal(0, AllocatedBy(() => LuaCodec.ReadResults<long>(L, 1, 1)));
        Assert.Equal(0, AllocatedBy(() => LuaCodec.ReadResults<double>(L, 2, 2)));
        Assert.Equal(0, AllocatedBy(() => LuaCodec.ReadResults<int?>(L, 1, 1)));
    }

    [Fact]
    public void Pushing_a_record_of_scalars_allocates_nothing_but_the_record()
    {
        nint L = lua.L;
        var quote = new Quote("ACME", 12.5, 3, true);
        int[] numbers = [.. Enumerable.Range(0, 100)];
        Assert.Equal((0L, 0L), (AllocatedBy(() => { LuaCodec.Push(L, quote); lua.Lua.Pop(1); }), AllocatedBy(() => { LuaCodec.Push(L, numbers); lua.Lua.Pop(1); })));
    }

    public sealed record Quote(string Symbol, double Price, long Lots, bool Firm);
}
