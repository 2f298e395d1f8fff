
namespace DarkSideSync.Benchmarks;

/// <summary>A .NET utility: <see cref="DssUtility.Deliver"/> and <see cref="DssUtility.DeliverAndWaitAsync"/>.</summary>
internal sealed class ManagedPath : IDeliveryPath
{
    private static readonly LuaDecode<int> PushNothing = static (_, _) => 0;
    private static readonly LuaReturn<long> ReadAnswer = static (lua, garbage) => garbage ? -1 : lua.ToInteger(1) ?? -1;

    private readonly DssUtility _utility;
    private readonly LuaDecode<int> _decodeItem;     // pushes bench.on_item, i
    private readonly LuaDecode<long> _decodeRequest; // pushes bench.on_request, x

    /// <summary>Lua thread: registers the utility and anchors its two callbacks.</summary>
    public ManagedPath(BenchHost host)
    {
        var status = DssUtility.Register(host.State, "dss-bench-managed", static u => u.Unregister(), out var utility);
        if (status != DssStatus.Success)
        {
            throw new InvalidOperationException($"DssUtility.Register: {status}");
        }
        _utility = utility!;
        var onItem = host.Reference("on_item");
        var onRequest = host.Reference("on_request");
        // Created once: a delivery costs no delegate allocation.
        _decodeItem = (lua, i) =>
        {
            lua.Push(onItem);
            lua.PushInteger(i);
            return 2;
        };
        _decodeRequest = (lua, x) =>
        {
            lua.Push(onRequest);
            lua.PushInteger(x);
            return 2;
        };
    }

    public string Name => "C# API";

    public void DeliverItems(int first, int count)
    {
        for (int i = first; i < first + count; i++)
        {
            Check(_utility.Deliver(i, _decodeItem));
        }
    }

    public void DeliverNothing(int count)
    {
        for (int i = 0; i < count; i++)
        {
            Check(_utility.Deliver(i, PushNothing));
        }
    }

    // Blocks this (dedicated) thread as a C utility's deliver does.
    public long RoundTrip(long x) =>
        _utility.DeliverAndWaitAsync(x, _decodeRequest, ReadAnswer).GetAwaiter().GetResult();

    private static void Check(DssStatus status)
    {
        if (status != DssStatus.Success)
        {
            throw new InvalidOperationException($"Deliver: {status}");
        }
    }
}
