
namespace DarkSideSync.Tests.Support;

/// <summary>
/// A .NET utility for tests: registers with a state and delivers integers to the global Lua
/// function <c>on_item</c> (or whatever <paramref name="callback"/> names).
/// </summary>
public sealed class TestUtility
{
    private readonly string _callback;

    private TestUtility(DssUtility utility, string callback)
    {
        Utility = utility;
        _callback = callback;
    }

    public DssUtility Utility { get; }

    public int Cancels;

    /// <summary>Lua thread. The cancel hook counts and unregisters, as a well-behaved utility does.</summary>
    public static TestUtility Register(LuaHost host, object libraryId, string callback = "on_item", bool unregisterOnCancel = true, Action? onCancel = null)
    {
        TestUtility? self = null;
        var status = DssUtility.Register(host.State, libraryId, u =>
        {
            Interlocked.Increment(ref self!.Cancels);
            onCancel?.Invoke();
            if (unregisterOnCancel)
            {
                u.Unregister();
            }
        }, out var utility);
        Assert.Equal(DssStatus.Success, status);
        self = new TestUtility(utility!, callback);
        return self;
    }

    public int PushCallback(LuaStack lua)
    {
        KeraLua.Lua.FromIntPtr(lua.State).GetGlobal(_callback);
        return 1;
    }

    public DssStatus Deliver(long value) =>
        Utility.Deliver((this, value), static (lua, item) =>
        {
            item.Item1.PushCallback(lua);
            lua.PushInteger(item.value);
            return 2;
        });

    /// <summary>Blocking: Lua's callback answers with <c>args[1](answer)</c>; the task gets the integer.</summary>
    public Task<long> Ask(long value, TimeSpan? timeout = null, CancellationToken token = default) =>
        Utility.DeliverAndWaitAsync(
            (this, value),
            static (lua, item) =>
            {
                item.Item1.PushCallback(lua);
                lua.PushInteger(item.value);
                return 2;
            },
            static (lua, garbage) => garbage ? -1 : lua.ToInteger(1) ?? -2,
            timeout,
            token);
}
