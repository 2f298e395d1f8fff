using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static DarkSideSync.Tests.Support.CApiLua;
using lua_State = nint;

namespace DarkSideSync.Tests.Support;

/// <summary>
/// A C utility written in C#: the decode, ret and cancel hooks of API 1v0 as
/// <c>[UnmanagedCallersOnly]</c> Cdecl functions, which record every call into a <see cref="CApiLog"/>.
/// </summary>
/// <remarks>
/// pData is an index into a static table of <see cref="CApiItem"/>s; cancel has no pData, so it
/// finds its log through the utilid. Entries are never removed or reused, so a late or
/// duplicated hook call is still recorded instead of hitting a freed object.
/// </remarks>
internal static unsafe class CApiTestUtility
{
    private static readonly ConcurrentDictionary<nint, CApiItem> Items = new();
    private static readonly ConcurrentDictionary<nint, (CApi Api, CApiLog Log, string Name)> Utilities = new();
    private static long _lastPData;
    private static long _lastLibId = 0x1000;

    public static nint Decode => (nint)(delegate* unmanaged[Cdecl]<lua_State, nint, nint, int>)&DecodeHook;

    public static nint Ret => (nint)(delegate* unmanaged[Cdecl]<lua_State, nint, nint, int, int>)&RetHook;

    /// <summary>A cancel that records the call and unregisters, as a well-behaved utility does.</summary>
    public static nint CancelAndUnreg => (nint)(delegate* unmanaged[Cdecl]<nint, void>)&CancelAndUnregHook;

    /// <summary>A cancel that only records the call: DSS has to unregister the utility itself.</summary>
    public static nint CancelOnly => (nint)(delegate* unmanaged[Cdecl]<nint, void>)&CancelOnlyHook;

    /// <summary>A fresh libid (C: <c>static void* libid = &amp;libid;</c>), unique in the process.</summary>
    public static nint NewLibId() => (nint)Interlocked.Increment(ref _lastLibId);

    public static nint Add(CApiItem item)
    {
        var pData = (nint)Interlocked.Increment(ref _lastPData);
        Items[pData] = item;
        return pData;
    }

    /// <summary>After a successful reg: where the utility's cancel hook records.</summary>
    public static void OnCancel(nint utilId, CApi api, CApiLog log, string name) => Utilities[utilId] = (api, log, name);

    // int decode(lua_State* L, void* pData, void* utilid): push on_item and the item's values.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int DecodeHook(lua_State L, nint pData, nint utilId)
    {
        if (!Items.TryGetValue(pData, out var item))
        {
            return 0;
        }
        item.UtilIdsSeen.Enqueue(utilId);
        if (L == 0)
        {
            item.Log.Record($"decode(NULL) {item.Name}");
            item.Ended();
            return 0;
        }
        item.Log.Record($"decode {item.Name}");
        if (!item.Blocking || item.Values is null)
        {
            item.Ended(); // no ret will follow
        }
        if (item.Values is null)
        {
            return 0;
        }
        lua_getglobal(L, item.Callback);
        foreach (long value in item.Values)
        {
            lua_pushinteger(L, value);
        }
        return 1 + item.Values.Length;
    }

    // int ret(lua_State* L, void* pData, void* utilid, int garbage): keep Lua's answer in the item.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int RetHook(lua_State L, nint pData, nint utilId, int garbage)
    {
        if (!Items.TryGetValue(pData, out var item))
        {
            return 0;
        }
        item.UtilIdsSeen.Enqueue(utilId);
        item.Ended();
        if (L == 0)
        {
            item.Log.Record($"ret(NULL) {item.Name}");
            return 0;
        }
        if (garbage != 0)
        {
            item.Log.Record($"ret garbage {item.Name}");
            return 0;
        }
        var answer = new long[lua_gettop(L)];
        for (int i = 0; i < answer.Length; i++)
        {
            answer[i] = lua_tointegerx(L, i + 1, null);
        }
        item.Answer = answer;
        item.Log.Record($"ret {item.Name} [{string.Join(",", answer)}]");
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void CancelAndUnregHook(nint utilId)
    {
        if (Utilities.TryGetValue(utilId, out var utility))
        {
            utility.Log.Record($"cancel {utility.Name}");
            int status = utility.Api.Unreg(utilId);
            utility.Log.Record($"unreg from cancel {utility.Name} -> {status}");
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void CancelOnlyHook(nint utilId)
    {
        if (Utilities.TryGetValue(utilId, out var utility))
        {
            utility.Log.Record($"cancel {utility.Name}");
        }
    }
}

/// <summary>What the hooks did, in the order they did it, from any thread.</summary>
internal sealed class CApiLog
{
    private readonly ConcurrentQueue<string> _entries = new();

    public void Record(string entry) => _entries.Enqueue(entry);

    public string[] Entries => [.. _entries];

    /// <summary>The entries that start with <paramref name="prefix"/>, in order.</summary>
    public string[] Starting(string prefix) => [.. _entries.Where(e => e.StartsWith(prefix, StringComparison.Ordinal))];
}

/// <summary>
/// One delivery's pData: what decode pushes (the global <see cref="Callback"/> and
/// <see cref="Values"/>; null values: decode pushes nothing) and what ret received.
/// </summary>
internal sealed class CApiItem
{
    private int _endings;

    public CApiItem(CApiLog log, string name, long[]? values, bool blocking = false, string callback = "on_item")
    {
        Log = log;
        Name = name;
        Values = values;
        Blocking = blocking;
        Callback = callback;
        PData = CApiTestUtility.Add(this);
    }

    public CApiLog Log { get; }

    public string Name { get; }

    public long[]? Values { get; }

    public bool Blocking { get; }

    public string Callback { get; }

    public nint PData { get; }

    /// <summary>The utilid argument of every hook call for this item.</summary>
    public ConcurrentQueue<nint> UtilIdsSeen { get; } = new();

    /// <summary>How many times a hook ended this delivery (decode(NULL), a final decode, or ret): exactly once is right.</summary>
    public int Endings => Volatile.Read(ref _endings);

    public void Ended() => Interlocked.Increment(ref _endings);

    /// <summary>The integers Lua passed to args[1], as ret read them.</summary>
    public long[]? Answer { get; set; }
}
