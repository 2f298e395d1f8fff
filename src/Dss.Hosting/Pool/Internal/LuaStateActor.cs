using Akka.Actor;
using Akka.Event;

namespace DarkSideSync.Hosting.Pool.Internal;

/// <summary>
/// One state of a pool: starts its <see cref="HostedLuaState"/>, serves <see cref="LuaCall"/>s
/// with it, reloads it, stops it. When the state dies (its thread ended without a stop) the
/// actor fails, and its supervisor replaces it after a back-off.
/// </summary>
internal sealed class LuaStateActor : UntypedActor, IWithUnboundedStash
{
    private readonly LuaStateOptions _options;
    private readonly int _index;
    private readonly PoolMembers _members;
    private readonly string _name;
    private readonly string _pool;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private HostedLuaState? _state;
    private IActorRef? _reloadRequester;

    public LuaStateActor(LuaStateOptions options, int index, PoolMembers members, string poolName)
    {
        _options = options;
        _index = index;
        _members = members;
        _name = $"{poolName}-{index}";
        _pool = poolName;
    }

    public IStash Stash { get; set; } = null!;

    public static Props Props(LuaStateOptions options, int index, PoolMembers members, string poolName) =>
        Akka.Actor.Props.Create(() => new LuaStateActor(options, index, members, poolName));

    // ---- messages, between the pool's actors only ----

    internal sealed record StateStarted(int Index);
    internal sealed record StateStartFailed(int Index, Exception Error);
    internal sealed record ReloadState;
    internal sealed record StateReloaded(int Index);
    internal sealed record StopState;
    private sealed record Started(HostedLuaState State);
    private sealed record StartFailed(Exception Error);
    private sealed record Replacement(HostedLuaState State);
    private sealed record Died(HostedLuaState State);
    private sealed record StateStopped;

    protected override void PreStart() => StartState().PipeTo(Self, success: s => new Started(s), failure: e => new StartFailed(e));

    private Task<HostedLuaState> StartState() => HostedLuaState.StartAsync(Context.System, _options, _name, _pool);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Started started:
                Adopt(started.State);
                Context.Parent.Tell(new StateStarted(_index));
                Become(Serving);
                Stash.UnstashAll();
                break;
            case StartFailed failed:
                Context.Parent.Tell(new StateStartFailed(_index, failed.Error));
                throw new LuaStateUnavailableException($"{_name} did not start: {failed.Error.Message}", inner: failed.Error);
            default:
                Stash.Stash();
                break;
        }
    }

    private void Adopt(HostedLuaState state)
    {
        _state = state;
        _members.Set(_index, state);
        state.Stopped.PipeTo(Self, success: () => new Died(state));
    }

    private void Serving(object message)
    {
        switch (message)
        {
            case LuaCall call:
                Call(_state!, call).PipeTo(Sender, success: values => new LuaResult(values), failure: e => new Status.Failure(e));
                break;
            case ReloadState:
                _reloadRequester = Sender;
                StartState().PipeTo(Self, success: s => new Replacement(s), failure: e => new StartFailed(e));
                break;
            case Replacement replacement:
                var old = _state!;
                Adopt(replacement.State);
                _ = old.StopAsync(); // drains what it has; new calls go to the replacement already
                _reloadRequester?.Tell(new StateReloaded(_index));
                _reloadRequester = null;
                break;
            case StartFailed failed:
                // A reload whose scripts do not start: the running state stays.
                _log.Error(failed.Error, "{0}: the reloaded scripts did not start; the state keeps the old ones.", _name);
                _reloadRequester?.Tell(new Status.Failure(failed.Error));
                _reloadRequester = null;
                break;
            case Died died when died.State == _state:
                _members.Clear(_index, died.State);
                throw new LuaStateUnavailableException($"{_name} died: its Lua thread ended without a stop.");
            case Died:
                break; // a state replaced by a reload, stopping
            case StopState:
                var state = _state!;
                _members.Clear(_index, state);
                state.StopAsync().PipeTo(Self, success: () => new StateStopped());
                Become(Stopping);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Stopping(object message)
    {
        switch (message)
        {
            case StateStopped:
                _state = null;
                Context.Stop(Self);
                break;
            case Replacement replacement:
                _ = replacement.State.StopAsync(); // a reload that finished starting after the stop
                _reloadRequester?.Tell(new StateReloaded(_index));
                _reloadRequester = null;
                break;
            case LuaCall:
                Sender.Tell(new Status.Failure(new LuaStateUnavailableException($"{_name} is stopping.")));
                break;
        }
    }

    private static Task<object?[]> Call(HostedLuaState state, LuaCall call) =>
        state.CallAsync<object?[]>(call.Path, call.Arguments, call.Timeout, budget: call.Budget);

    protected override void PostStop()
    {
        if (_state is { } state)
        {
            _members.Clear(_index, state);
            _ = state.StopAsync(); // the actor system is going down, or the actor failed
        }
    }
}
