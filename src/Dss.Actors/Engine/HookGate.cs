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
/// wait (a second unregister) or is deferred with <see cref="WhenNoneHeld"/> until the thread
/// has left its last gate (stop-DSS). The count is per thread and over every gate of every
/// state, so a cycle through two utilities or two states is covered too.
/// </remarks>
internal sealed class HookGate
{
    private readonly Lock _lock = new();

    [ThreadStatic]
    private static int t_held; // gates the current thread holds, any utility of any state, re-entries counted

    [ThreadStatic]
    private static Queue<Action>? t_deferred; // work that must wait until t_held is 0

    [ThreadStatic]
    private static bool t_runningDeferred; // the deferred work is running (it may take gates itself)

    /// <summary>True while the current thread runs a hook of any utility (or is otherwise inside a gate).</summary>
    public static bool AnyHeldByCurrentThread => t_held > 0;

    public bool IsHeldByCurrentThread => _lock.IsHeldByCurrentThread;

    /// <summary>Enters the gate (re-entrant); dispose the scope to leave it. <c>using (gate.Enter()) { ... }</c></summary>
    public Scope Enter()
    {
        _lock.Enter();
        t_held++;
        return new Scope(this);
    }

    /// <summary>
    /// Runs <paramref name="action"/> now when the current thread holds no gate, otherwise as
    /// soon as it leaves its last one (on this thread, before that Exit returns).
    /// </summary>
    public static void WhenNoneHeld(Action action)
    {
        if (t_held == 0)
        {
            action();
            return;
        }
        (t_deferred ??= new Queue<Action>()).Enqueue(action);
    }

    private void Exit()
    {
        Debug.Assert(_lock.IsHeldByCurrentThread, "a gate is left only by the thread that entered it");
        t_held--;
        _lock.Exit();
        if (t_held == 0 && t_deferred is { Count: > 0 } && !t_runningDeferred)
        {
            RunDeferred(t_deferred);
        }
    }

    private static void RunDeferred(Queue<Action> deferred)
    {
        t_runningDeferred = true;
        try
        {
            while (deferred.TryDequeue(out var action))
            {
                action(); // never throws: deferred work is stop-DSS, which catches what it must
            }
        }
        finally
        {
            t_runningDeferred = false;
        }
    }

    /// <summary>The gate held by one <c>using</c> block.</summary>
    public readonly ref struct Scope
    {
        private readonly HookGate _gate;

        internal Scope(HookGate gate) => _gate = gate;

        public void Dispose() => _gate.Exit();
    }
}
