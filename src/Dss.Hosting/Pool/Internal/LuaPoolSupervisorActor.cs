using Akka.Actor;
using Akka.Event;

namespace DarkSideSync.Hosting.Pool.Internal;

/// <summary>
/// The pool's supervisor: one <see cref="LuaStateActor"/> child per state; routes
/// <see cref="LuaCall"/>s (by key, or by the pool's routing); replaces a state that died after
/// a back-off that doubles with each failure in a row; reloads state by state; stops them all.
/// </summary>
internal sealed class LuaPoolSupervisorActor : UntypedActor, IWithTimers
{
    private readonly LuaPoolOptions _options;
    private readonly PoolMembers _members;
    private readonly string _name;
    private readonly IActorRef?[] _children;
    private readonly int[] _failuresInARow;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private int _generation;                    // child names stay unique across replacements
    private IActorRef? _stopRequester;          // set once StopLuaPool arrived
    private bool _stopping;
    private IActorRef? _reloadRequester;
    private int _reloading = -1;                // the index being reloaded; -1: none

    public LuaPoolSupervisorActor(LuaPoolOptions options, PoolMembers members, string name)
    {
        _options = options;
        _members = members;
        _name = name;
        _children = new IActorRef?[members.Size];
        _failuresInARow = new int[members.Size];
    }

    private sealed record ReplaceState(int Index);

    public ITimerScheduler Timers { get; set; } = null!;

    // A child that fails is stopped: the replacement is this actor's, after a back-off.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    protected override void PreStart()
    {
        for (int i = 0; i < _children.Length; i++)
        {
            StartChild(i);
        }
    }

    private void StartChild(int index)
    {
        var child = Context.ActorOf(LuaStateActor.Props(_options.State, index, _members, _name), $"state-{index}-{++_generation}");
        Context.Watch(child);
        _children[index] = child;
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case LuaCall call:
                Route(call);
                break;
            case LuaStateActor.StateStarted started:
                _failuresInARow[started.Index] = 0;
                if (_members.AllRunning)
                {
                    _members.Ready.TrySetResult();
                }
                break;
            case LuaStateActor.StateStartFailed failed:
                // The failure in a row is counted as the child terminates (OnTerminated), once.
                if (_members.Ready.TrySetException(failed.Error))
                {
                    Context.Stop(Self); // the pool's first start failed: nothing to replace
                }
                break;
            case Terminated terminated:
                OnTerminated(terminated.ActorRef);
                break;
            case ReplaceState replace when !_stopping && _children[replace.Index] is null:
                StartChild(replace.Index);
                break;
            case ReloadLuaPool:
                _reloadRequester = Sender;
                ReloadNext(0);
                break;
            case LuaStateActor.StateReloaded reloaded when reloaded.Index == _reloading:
                ReloadNext(reloaded.Index + 1);
                break;
            case Status.Failure failure when _reloading >= 0:
                _reloadRequester?.Tell(failure);
                _reloading = -1;
                break;
            case StopLuaPool:
                _stopping = true;
                _stopRequester = Sender;
                foreach (var child in _children)
                {
                    child?.Tell(new LuaStateActor.StopState());
                }
                ReplyIfStopped();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Route(LuaCall call)
    {
        int index = call.Key is { } key ? _members.IndexOf(key) : _members.Pick(_options.Routing);
        if (index < 0)
        {
            index = Array.FindIndex(_children, c => c is not null); // starting: it stashes the call
        }
        if (_stopping || index < 0 || _children[index] is not { } child)
        {
            Sender.Tell(new Status.Failure(new LuaStateUnavailableException(
                $"{_name}: {(call.Key is null ? "no state is running" : "the key's state is not running")} now; {call.Path} was not called.")));
            return;
        }
        child.Forward(call);
    }

    private void OnTerminated(IActorRef child)
    {
        int index = Array.IndexOf(_children, child);
        if (index < 0)
        {
            return;
        }
        _children[index] = null;
        if (_stopping)
        {
            ReplyIfStopped();
            return;
        }
        if (!_members.Ready.Task.IsCompleted)
        {
            // A state that died before the pool's first start completed: the start fails.
            if (_members.Ready.TrySetException(new LuaStateUnavailableException($"{_name}: state {index} died while the pool started.")))
            {
                Context.Stop(Self);
            }
            return;
        }
        if (index == _reloading)
        {
            ReloadNext(index + 1); // its replacement loads the new scripts anyway
        }
        int failures = Math.Min(_failuresInARow[index]++, 16);
        var delay = TimeSpan.FromTicks(Math.Min(_options.MaxBackoff.Ticks, _options.MinBackoff.Ticks << failures));
        _log.Warning("{0}: state {1} died; replacing it in {2}.", _name, index, delay);
        Timers.StartSingleTimer($"replace-{index}", new ReplaceState(index), delay);
    }

    private void ReloadNext(int index)
    {
        while (index < _children.Length && _children[index] is null)
        {
            index++; // a state being replaced anyway loads the new scripts
        }
        if (index >= _children.Length)
        {
            _reloading = -1;
            _reloadRequester?.Tell(LuaPoolReloaded.Instance);
            _reloadRequester = null;
            return;
        }
        _reloading = index;
        _children[index]!.Tell(new LuaStateActor.ReloadState());
    }

    private void ReplyIfStopped()
    {
        if (Array.TrueForAll(_children, c => c is null))
        {
            _stopRequester?.Tell(LuaPoolStopped.Instance);
            Context.Stop(Self);
        }
    }
}
