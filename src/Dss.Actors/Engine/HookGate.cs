using System.Diagnostics;

namespace DarkSideSync.Engine;

/// <summary>
/// The lock that makes one utility's hooks run one at a time. Held by whoever runs them: the
/// Lua thread while it decodes or answers, an unregistering thread while it cancels, a
/// timer while it withdraws a request.
/// </summary>
/// <remarks>
/// The rule that keeps DSS free of deadlocks: <b>a thread that holds a gate never waits for
/// another thread</b>. Hooks run under a gate and may call anything (unreg, stop, deliver),
/// and Lua may run finalizers at any allocation inside poll; whatever they ask for that
/// would wait on another thread (which may itself be waiting for this gate) either does not
/// wait (a second unregister; a blocking C deliver, refused with WOULD_DEADLOCK), takes
/// another utility's gate only if it is free (<see cref="TryEnter"/>), or is deferred with
/// <see cref="WhenNoneHeld"/> until the thread has left its last gate (stop-DSS, the cancelling
/// of an unregister whose gate was busy). The count is per thread and over every gate of every
/// state, so a cycle through two utilities or two states is covered too. Whatever a thread
/// must finish for others to go on (an unregister's completion, a producer's release) it
/// finishes before it leaves its gate, because deferred work runs as it leaves.
/// </remarks>
internal sealed class HookGate
{
    private readonly Lock _lock = new();

    [ThreadStatic]
    private static ThreadGates? t_gates; // the current thread's; one thread-static read per Enter (they cost in a shared library)

    /// <summary>True while the current thread runs a hook of any utility (or is otherwise inside a gate).</summary>
    public static bool AnyHeldByCurrentThread => t_gates is { Held: > 0 };

    public bool IsHeldByCurrentThread => _lock.IsHeldByCurrentThread;

    private static ThreadGates CurrentThread => t_gates ??= new ThreadGates();

    /// <summary>Enters the gate (re-entrant); dispose the scope to leave it. <c>using (gate.Enter()) { ... }</c></summary>
    public Scope Enter()
    {
        _lock.Enter();
        var gates = CurrentThread;
        gates.Held++;
        return new Scope(this, gates);
    }

    /// <summary>
    /// Enters the gate for a holder that cannot keep a scope: the dispatch loop, which holds it
    /// across a call into C (the decode hook) and leaves it in a later call. Pair with <see cref="ExitHeld"/>.
    /// </summary>
    public void EnterHeld()
    {
        _lock.Enter();
        CurrentThread.Held++;
    }

    /// <summary>Leaves a gate entered with <see cref="EnterHeld"/>, on the same thread.</summary>
    public void ExitHeld() => Exit(CurrentThread);

    /// <summary>Enters the gate if that takes no waiting (re-entrant); on success dispose <paramref name="scope"/> to leave it.</summary>
    public bool TryEnter(out Scope scope)
    {
        if (!_lock.TryEnter())
        {
            scope = default;
            return false;
        }
        var gates = CurrentThread;
        gates.Held++;
        scope = new Scope(this, gates);
        return true;
    }

    /// <summary>
    /// Runs <paramref name="action"/> now when the current thread holds no gate, otherwise as
    /// soon as it leaves its last one (on this thread, before that Exit returns). The action
    /// must not throw. So whoever holds a gate finishes, before leaving it, whatever others
    /// may be waiting for (an unregister marks itself complete inside its gate).
    /// </summary>
    public static void WhenNoneHeld(Action action)
    {
        var gates = CurrentThread;
        if (gates.Held == 0)
        {
            action();
            return;
        }
        (gates.Deferred ??= new Queue<Action>()).Enqueue(action);
    }

    private void Exit(ThreadGates gates)
    {
        Debug.Assert(_lock.IsHeldByCurrentThread && gates == t_gates, "a gate is left only by the thread that entered it");
        gates.Held--;
        _lock.Exit();
        if (gates.Held == 0 && gates.Deferred is { Count: > 0 } && !gates.RunningDeferred)
        {
            gates.RunDeferred();
        }
    }

    // What one thread holds, and what waits for it to hold nothing.
    internal sealed class ThreadGates
    {
        public int Held;                 // gates held, any utility of any state, re-entries counted
        public Queue<Action>? Deferred;  // work that must wait until Held is 0
        public bool RunningDeferred;     // the deferred work is running (it may take gates itself)

        public void RunDeferred()
        {
            RunningDeferred = true;
            try
            {
                while (Deferred!.TryDequeue(out var action))
                {
                    action();
                }
            }
            finally
            {
                RunningDeferred = false;
            }
        }
    }

    /// <summary>The gate held by one <c>using</c> block.</summary>
    public readonly ref struct Scope
    {
        private readonly HookGate _gate;
        private readonly ThreadGates _gates;

        internal Scope(HookGate gate, ThreadGates gates)
        {
            _gate = gate;
            _gates = gates;
        }

        public void Dispose() => _gate.Exit(_gates);
    }
}
