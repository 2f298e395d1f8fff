using System.Collections.Concurrent;
using Akka.Actor;

namespace DarkSideSync.Tests.Support;

/// <summary>
/// A <see cref="LuaHost"/> on a dedicated thread of its own, which is its Lua thread. The test
/// thread hands it work and waits with a limit, so a Lua thread stuck in DSS fails the test
/// (<see cref="TimeoutException"/>) instead of hanging the test run.
/// </summary>
/// <remarks>
/// A stuck thread is abandoned (it is a background thread, so it cannot keep the test process
/// alive); its state is then never closed.
/// </remarks>
public sealed class LuaThread : IDisposable
{
    /// <summary>How long a piece of Lua work may take before the test fails: 10x what any of them needs here.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly BlockingCollection<Action> _work = [];
    private readonly Thread _thread;
    private LuaHost? _host;
    private int _busy; // 1 while a piece of work runs

    public LuaThread(ActorSystem system, string name = "lua")
    {
        Name = name;
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _thread = new Thread(() =>
        {
            try
            {
                _host = new LuaHost(system);
                ready.SetResult();
            }
            catch (Exception e)
            {
                ready.SetException(e);
                return;
            }
            foreach (var work in _work.GetConsumingEnumerable())
            {
                Volatile.Write(ref _busy, 1);
                work();
                Volatile.Write(ref _busy, 0);
            }
        }) { IsBackground = true, Name = "Lua thread " + name };
        _thread.Start();
        Await(ready.Task, Patience, "creating the Lua state");
    }

    public string Name { get; }

    /// <summary>The managed thread id of the Lua thread.</summary>
    public int ThreadId => _thread.ManagedThreadId;

    /// <summary>The raw <c>lua_State*</c> (valid until <see cref="Close"/>); touch it only from the Lua thread.</summary>
    public nint State => _host!.State;

    /// <summary>True when the Lua thread did not come back from its last piece of work.</summary>
    public bool IsStuck => Volatile.Read(ref _busy) == 1;

    /// <summary>Queues <paramref name="work"/> for the Lua thread; the task ends with its result or exception.</summary>
    public Task<T> Start<T>(Func<LuaHost, T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try
            {
                done.SetResult(work(_host!));
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        });
        return done.Task;
    }

    public Task Start(Action<LuaHost> work) => Start<bool>(host =>
    {
        work(host);
        return true;
    });

    /// <summary>Runs <paramref name="work"/> on the Lua thread and returns its result; fails the test when it takes longer than <paramref name="within"/>.</summary>
    public T Call<T>(Func<LuaHost, T> work, TimeSpan? within = null, string what = "the Lua work") =>
        Await(Start(work), within ?? Patience, what);

    public void Call(Action<LuaHost> work, TimeSpan? within = null, string what = "the Lua work") =>
        Await(Start(work), within ?? Patience, what);

    /// <summary>Runs a chunk on the Lua thread (a Lua error fails the test).</summary>
    public void Run(string chunk, TimeSpan? within = null) => Call(h => h.Run(chunk), within, chunk);

    public long Integer(string expression) => Call(h => h.Integer(expression), what: expression);

    public string? String(string expression) => Call(h => h.String(expression), what: expression);

    public bool Boolean(string expression) => Call(h => h.Boolean(expression), what: expression);

    public string Error(string chunk) => Call(h => h.Error(chunk), what: chunk);

    /// <summary>lua_close on the Lua thread (stop-DSS through the garbage collector), with a limit.</summary>
    public void Close(TimeSpan? within = null) => Call(h => h.Close(), within, "lua_close");

    /// <summary>Waits for <paramref name="task"/> at most <paramref name="within"/>: a timeout fails the test naming <paramref name="what"/>.</summary>
    public static T Await<T>(Task<T> task, TimeSpan within, string what)
    {
        if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(within))
        {
            throw new TimeoutException($"{what} did not return within {within.TotalSeconds:0.#} s (a thread is stuck in DSS).");
        }
        return task.GetAwaiter().GetResult();
    }

    public static void Await(Task task, TimeSpan within, string what)
    {
        if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(within))
        {
            throw new TimeoutException($"{what} did not return within {within.TotalSeconds:0.#} s (a thread is stuck in DSS).");
        }
        task.GetAwaiter().GetResult();
    }

    /// <summary>Closes the state on its thread and ends the thread; a stuck thread is abandoned.</summary>
    public void Dispose()
    {
        if (_work.IsAddingCompleted)
        {
            return;
        }
        if (IsStuck)
        {
            _work.CompleteAdding(); // nothing will run any more on it: do not wait for it
            return;
        }
        {
            _work.Add(() =>
            {
                try
                {
                    _host?.Close();
                }
                catch (Exception)
                {
                    // Disposing after a failed test: the failure was reported already.
                }
            });
        }
        _work.CompleteAdding();
        _thread.Join(Patience);
    }
}
