using Debug = System.Diagnostics.Debug;

namespace DarkSideSync.Engine;

/// <summary>
/// Which thread of one Lua state must never wait for a delivery of that state: the declared
/// Lua thread, and a thread inside a darksidesync call that runs Lua-side work (dispatch).
/// Outlives stop()/start(), like the state's binding that owns it.
/// </summary>
/// <remarks>
/// The declared thread is the one that ran <c>require "darksidesync"</c> for the state, until a
/// darksidesync Lua function of the state is called from another thread (<see cref="Touch"/>):
/// then it is forgotten for good, so a host that moves its state between threads loses only
/// this check. A host may instead declare the thread itself (<see cref="Declare"/>); a
/// declaration is kept until the next one. Threads are compared by managed thread id: one
/// field compare on the producer's side, and one thread-static read per darksidesync call
/// while a declaration may still be forgotten.
/// Hooks need no entry here: a thread that runs one holds a gate (<see cref="HookGate.AnyHeldByCurrentThread"/>).
/// </remarks>
internal sealed class LuaThreadWatch
{
    private const int NoThread = 0; // managed thread ids start at 1

    private int _declared;  // the declared Lua thread's id, or NoThread (none, or forgotten)
    private bool _pinned;   // declared by the host: calls from other threads do not forget it
    private int _inside;    // the thread inside a Lua-side call, or NoThread; written by that thread only
    private int _depth;     // nested Lua-side calls of _inside

    /// <summary>Lua thread, as the state loads darksidesync: the current thread is the Lua thread.</summary>
    public static LuaThreadWatch DeclaredByRequire() => new() { _declared = Environment.CurrentManagedThreadId };

    /// <summary>The host declares the current thread as the state's Lua thread; it stays so until the next declaration.</summary>
    public void Declare()
    {
        Volatile.Write(ref _pinned, true);
        Volatile.Write(ref _declared, Environment.CurrentManagedThreadId);
    }

    /// <summary>
    /// Lua thread, at the start of every darksidesync Lua function: a call from another thread
    /// than the one that required the module means the state moved, so that thread is forgotten.
    /// </summary>
    public void Touch()
    {
        int declared = _declared;
        if (declared != NoThread && !_pinned && declared != Environment.CurrentManagedThreadId)
        {
            Volatile.Write(ref _declared, NoThread);
        }
    }

    /// <summary>True when the current thread is the state's declared Lua thread or inside one of its Lua-side calls.</summary>
    public bool IsCurrentThread
    {
        get
        {
            int current = Environment.CurrentManagedThreadId;
            return current == Volatile.Read(ref _declared) || current == Volatile.Read(ref _inside);
        }
    }

    /// <summary>
    /// Lua thread: the current thread runs Lua-side work of the state (poll, dispatch, drain)
    /// until the scope is disposed; a delivery it makes that would wait is refused meanwhile.
    /// Nests. <c>using (watch.Enter()) { ... }</c>
    /// </summary>
    public Scope Enter()
    {
        EnterHeld();
        return new Scope(this);
    }

    /// <summary>As <see cref="Enter"/>, for a caller that cannot keep a scope (dispatch, whose call spans calls from C); pair with <see cref="LeaveHeld"/>.</summary>
    public void EnterHeld()
    {
        if (_depth++ == 0)
        {
            Volatile.Write(ref _inside, Environment.CurrentManagedThreadId);
        }
    }

    /// <summary>Leaves what <see cref="EnterHeld"/> entered, on the same thread.</summary>
    public void LeaveHeld()
    {
        Debug.Assert(_depth > 0 && _inside == Environment.CurrentManagedThreadId, "a Lua-side call is left by the thread that entered it");
        if (--_depth == 0)
        {
            Volatile.Write(ref _inside, NoThread);
        }
    }

    /// <summary>One Lua-side call, left when disposed.</summary>
    public readonly ref struct Scope
    {
        private readonly LuaThreadWatch _watch;

        internal Scope(LuaThreadWatch watch) => _watch = watch;

        public void Dispose() => _watch.LeaveHeld();
    }
}
