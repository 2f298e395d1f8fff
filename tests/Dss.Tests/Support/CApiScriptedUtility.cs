using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using lua_State = nint;

namespace DarkSideSync.Tests.Support;

/// <summary>
/// A C utility written in C# whose hooks do whatever a test scripts for each pData: push
/// thousands of values, lie about the count, unregister, run Lua, deliver again, never return.
/// The hooks are <c>[UnmanagedCallersOnly]</c> Cdecl functions reached through the API struct;
/// an exception inside a script is recorded on its item and never escapes into DSS.
/// </summary>
internal static unsafe class CApiScriptedUtility
{
    private static readonly ConcurrentDictionary<nint, ScriptedItem> Items = new();
    private static readonly ConcurrentDictionary<nint, Action<nint>> Cancels = new();
    private static long _lastPData = 1L << 40; // apart from CApiTestUtility's pData numbers

    public static nint Decode => (nint)(delegate* unmanaged[Cdecl]<lua_State, nint, nint, int>)&DecodeHook;

    public static nint Ret => (nint)(delegate* unmanaged[Cdecl]<lua_State, nint, nint, int, int>)&RetHook;

    public static nint Cancel => (nint)(delegate* unmanaged[Cdecl]<nint, void>)&CancelHook;

    /// <summary>Lua thread: reg with the scripted cancel hook; <paramref name="onCancel"/> gets the utilid.</summary>
    public static nint Reg(CApi api, lua_State L, Action<nint> onCancel)
    {
        int errcode;
        nint utilId = api.RegRaw(L, CApiTestUtility.NewLibId(), Cancel, &errcode);
        if (errcode != (int)DssStatus.Success)
        {
            throw new InvalidOperationException($"reg returned {errcode}");
        }
        Cancels[utilId] = onCancel;
        return utilId;
    }

    /// <summary>Forgets a delivery that was checked (long runs): a later hook call for it then does nothing.</summary>
    public static void Forget(ScriptedItem item) => Items.TryRemove(item.PData, out _);

    public static nint Add(ScriptedItem item)
    {
        var pData = (nint)Interlocked.Increment(ref _lastPData);
        Items[pData] = item;
        return pData;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int DecodeHook(lua_State L, nint pData, nint utilId) =>
        Items.TryGetValue(pData, out var item) ? item.RunDecode(L, utilId) : 0;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int RetHook(lua_State L, nint pData, nint utilId, int garbage) =>
        Items.TryGetValue(pData, out var item) ? item.RunRet(L, utilId, garbage != 0) : 0;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void CancelHook(nint utilId)
    {
        if (Cancels.TryGetValue(utilId, out var cancel))
        {
            try
            {
                cancel(utilId);
            }
            catch (Exception)
            {
                // Nothing may unwind into DSS; the test sees what the script did not do.
            }
        }
    }
}

/// <summary>
/// One scripted delivery (its pData). <see cref="OnDecode"/> runs for decode with a state and
/// returns decode's result; <see cref="OnRet"/> for ret with a state. The hooks with
/// <c>L == NULL</c> only record. <see cref="Endings"/> counts the hook calls that ended it.
/// </summary>
internal sealed class ScriptedItem
{
    private readonly ConcurrentQueue<Exception> _failures = new();
    private int _endings;

    public ScriptedItem(CApiLog? log, string name, bool blocking, Func<lua_State, int> onDecode, Func<lua_State, bool, int>? onRet = null, Action? onCancelled = null)
    {
        OnCancelled = onCancelled ?? (() => { });
        Log = log;
        Name = name;
        Blocking = blocking;
        OnDecode = onDecode;
        OnRet = onRet ?? ((_, _) => 0);
        PData = CApiScriptedUtility.Add(this);
    }

    /// <summary>Where the hook calls are recorded; null: counted only (long runs).</summary>
    public CApiLog? Log { get; }

    public string Name { get; }

    public bool Blocking { get; }

    public Func<lua_State, int> OnDecode { get; }

    public Func<lua_State, bool, int> OnRet { get; }

    /// <summary>Runs inside decode(NULL) or ret(NULL), after the call was recorded.</summary>
    public Action OnCancelled { get; }

    public nint PData { get; }

    public int Endings => Volatile.Read(ref _endings);

    /// <summary>Exceptions the scripts threw (recorded, never passed to DSS).</summary>
    public Exception[] Failures => [.. _failures];

    private void Guarded(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            _failures.Enqueue(e);
        }
    }

    public unsafe int RunDecode(lua_State L, nint utilId)
    {
        if (L == 0)
        {
            Log?.Record($"decode(NULL) {Name}");
            Interlocked.Increment(ref _endings);
            Guarded(OnCancelled);
            return 0;
        }
        Log?.Record($"decode {Name}");
        int top = KeraLua.Lua.FromIntPtr(L).GetTop();
        int result;
        try
        {
            result = OnDecode(L);
        }
        catch (Exception e)
        {
            _failures.Enqueue(e);
            KeraLua.Lua.FromIntPtr(L).SetTop(top);
            result = 0;
        }
        // The delivery ends here unless decode handed Lua something and a ret will follow.
        int pushed = KeraLua.Lua.FromIntPtr(L).GetTop() - top;
        if (!Blocking || Math.Clamp(result, 0, pushed) == 0)
        {
            Interlocked.Increment(ref _endings);
        }
        return result;
    }

    public int RunRet(lua_State L, nint utilId, bool garbage)
    {
        Interlocked.Increment(ref _endings);
        if (L == 0)
        {
            Log?.Record($"ret(NULL) {Name}");
            Guarded(OnCancelled);
            return 0;
        }
        Log?.Record(garbage ? $"ret garbage {Name}" : $"ret {Name}");
        try
        {
            return OnRet(L, garbage);
        }
        catch (Exception e)
        {
            _failures.Enqueue(e);
            return 0;
        }
    }
}
