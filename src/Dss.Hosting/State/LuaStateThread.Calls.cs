using DarkSideSync.Hosting.Calls;
using System.Diagnostics;
using DarkSideSync.Hosting.Codec;
using DarkSideSync.Hosting.Diagnostics;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.State;

// Calls from .NET into the state: one runs on the caller's thread when the state is idle
// (LuaStateThread.CallsHere.cs); otherwise it is a blocking DSS delivery whose decode pushes
// hosting.lua's call function, the call's id, path and arguments. Lua answers with (true,
// results...) or (false, kind, message, traceback), through core.answer or the delivery's
// waitingthread_callback; either way the caller sees the same outcomes and exceptions.
internal sealed partial class LuaStateThread
{
    /// <summary>Any thread: calls the Lua function at <paramref name="path"/> and converts its results to <typeparamref name="TResult"/>.</summary>
    public async Task<TResult> CallAsync<TResult>(string path, object?[]? arguments, TimeSpan? timeout, TimeSpan? budget, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!_accepting)
        {
            LuaMetrics.Refusals.Add(1, MetricTags);
            throw new LuaStateUnavailableException($"{Name}: the state is stopping or stopped; {path} was not called.");
        }
        var limit = timeout ?? Options.DefaultTimeout;
        long budgetNs = (budget ?? Options.CallBudget) is { } b ? (long)b.TotalNanoseconds : long.MaxValue;
        var call = new HostedCall(Interlocked.Increment(ref _lastCallId), path, arguments ?? [], budgetNs)
        {
            TimeoutAtNs = Options.RunCallsOnCallerThread && limit is { } l && l != Timeout.InfiniteTimeSpan
                ? Budgets.BudgetCalls.dss_budget_now_ns() + (long)l.TotalNanoseconds : long.MaxValue,
        };
        LuaMetrics.Calls.Add(1, MetricTags);
        long started = LuaMetrics.Timing ? Stopwatch.GetTimestamp() : 0; // 0: nobody listens to the timings
        call.Timed = started != 0;
        Calls[call.Id] = call;
        Interlocked.Increment(ref _outstanding);
        using var linked = cancellationToken.CanBeCanceled ? cancellationToken.Register(CancelCall, (this, call)) : default;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            var outcome = TryRunHere<TResult>(call, cancellationToken) is { } here
                ? await AnswerOf(here, call, cancellationToken).ConfigureAwait(false)
                : Settled(await Utility.DeliverAndWaitAsync(call, DecodeCall, AnswerOf<TResult>, limit, cancellationToken, Dropped, Options.QueueOverflow)
                    .ConfigureAwait(false), call, cancellationToken);
            try
            {
                return outcome.Get(path, Name);
            }
            catch (Exception failed)
            {
                LuaMetrics.Errors.Add(1, LuaMetrics.WithErrorType(MetricTags, ErrorType(failed)));
                throw;
            }
        }
        catch (DssDeliveryCanceledException canceled)
        {
            Abandon(call, canceled.ReachedLua);
            switch (canceled.Reason)
            {
                case CancelReason.Timeout:
                    LuaMetrics.Timeouts.Add(1, MetricTags);
                    break;
                case CancelReason.CallerCancelled:
                    break;
                default:
                    LuaMetrics.Errors.Add(1, LuaMetrics.WithErrorType(MetricTags, "stopped"));
                    break;
            }
            throw canceled.Reason switch
            {
                CancelReason.Timeout => new LuaCallTimeoutException(path, limit ?? Timeout.InfiniteTimeSpan),
                CancelReason.CallerCancelled => new OperationCanceledException($"{path}: the call was cancelled.", canceled, cancellationToken),
                _ => new LuaStateUnavailableException($"{Name}: the state stopped before {path} answered.", inner: canceled, reachedLua: canceled.ReachedLua),
            };
        }
        catch (DssDeliveryRefusedException refused)
        {
            LuaMetrics.Refusals.Add(1, MetricTags);
            started = 0; // a refusal has no duration worth a histogram
            throw new LuaStateUnavailableException(
                refused.Status == DssStatus.QueueFull
                    ? $"{Name}: the state is busy (its queue is full); {path} was not called."
                    : $"{Name}: the state is stopping or stopped; {path} was not called.",
                refused.Status, refused);
        }
        catch (DssUtilityException failed) when (failed.InnerException is LuaConversionException conversion)
        {
            LuaMetrics.Errors.Add(1, LuaMetrics.WithErrorType(MetricTags, "conversion"));
            throw conversion; // an argument that cannot be a Lua value; nothing ran
        }
        catch (LuaConversionException) when (Volatile.Read(ref call.ReachedLua) == 0)
        {
            LuaMetrics.Errors.Add(1, LuaMetrics.WithErrorType(MetricTags, "conversion"));
            throw; // the same, for a call that was to run here
        }
        finally
        {
            if (started != 0)
            {
                Record(call, started);
            }
            call.Cancel();
            if (call.Inline is not null)
            {
                Answering.TryRemove(call.Id, out _); // given up on (timeout, token): its answer, if any, goes nowhere
            }
            if (Volatile.Read(ref call.ReachedLua) == 0)
            {
                Calls.TryRemove(call.Id, out _); // refused, withdrawn, or its arguments did not convert: Lua never saw it
            }
            if (Interlocked.Decrement(ref _outstanding) == 0 && !_accepting)
            {
                _drained.TrySetResult();
            }
        }
    }

    // The answer of a call run here: at once when it finished here (no thread hop), else when
    // the state's thread finishes it (it awaited .NET), within the call's timeout and token.
    // Its end by timeout or token reads as a queued call's does (DssDeliveryCanceledException).
    private static ValueTask<CallOutcome<TResult>> AnswerOf<TResult>(InlineAnswer<TResult> answer, HostedCall call, CancellationToken cancellationToken)
    {
        var outcome = answer.Outcome;
        return outcome.IsCompleted
            ? new(Settled(outcome.Result, call, cancellationToken))
            : new(AwaitAnswer(outcome, call, cancellationToken));
    }

    private static async Task<CallOutcome<TResult>> AwaitAnswer<TResult>(Task<CallOutcome<TResult>> outcome, HostedCall call, CancellationToken cancellationToken)
    {
        var left = call.TimeoutAtNs == long.MaxValue
            ? Timeout.InfiniteTimeSpan
            : TimeSpan.FromTicks(Math.Max(0, call.TimeoutAtNs - Budgets.BudgetCalls.dss_budget_now_ns()) / 100);
        try
        {
            return Settled(await outcome.WaitAsync(left, cancellationToken).ConfigureAwait(false), call, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new DssDeliveryCanceledException(CancelReason.Timeout, reachedLua: true);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new DssDeliveryCanceledException(CancelReason.CallerCancelled, reachedLua: true);
        }
    }

    // The budget hook ended the call at its timeout (TimeoutAtNs, set when calls may run here:
    // a queued one meets it too), or because its token was cancelled: the caller sees what it
    // would have seen had the answer come a moment later.
    private static CallOutcome<TResult> Settled<TResult>(CallOutcome<TResult> outcome, HostedCall call, CancellationToken cancellationToken) =>
        outcome.Kind switch
        {
            "time" when Budgets.BudgetCalls.dss_budget_now_ns() >= call.TimeoutAtNs => throw new DssDeliveryCanceledException(CancelReason.Timeout, reachedLua: true),
            "cancelled" when cancellationToken.IsCancellationRequested => throw new DssDeliveryCanceledException(CancelReason.CallerCancelled, reachedLua: true),
            _ => outcome,
        };

    private void Record(HostedCall call, long started)
    {
        long now = Stopwatch.GetTimestamp();
        LuaMetrics.CallDuration.Record(LuaMetrics.Seconds(started, now), MetricTags);
        if (Volatile.Read(ref call.DecodedAt) is var decoded and not 0)
        {
            LuaMetrics.QueueWait.Record(LuaMetrics.Seconds(started, decoded), MetricTags);
        }
    }

    private static string ErrorType(Exception failed) => failed switch
    {
        LuaBudgetExceededException { Budget: LuaBudget.Time } => "time_budget",
        LuaBudgetExceededException => "memory_budget",
        LuaScriptException => "script",
        LuaConversionException => "conversion",
        _ => "stopped",
    };

    // The caller gave up (timeout, token, stop) on a call Lua already has: the budget hook ends
    // it if it is running now; otherwise hosting.lua closes its coroutine when it gets to it.
    private void Abandon(HostedCall call, bool reachedLua)
    {
        call.Cancel();
        if (!reachedLua)
        {
            return; // withdrawn from the queue: it never runs (the finally forgets it)
        }
        EndIfRunning(call.Id);
        Utility.DeliverPastTheBound((this, call.Id), static (lua, item) =>
        {
            var (owner, id) = item;
            lua_rawgeti(lua.State, LUA_REGISTRYINDEX, owner.AbandonFunction);
            lua_pushinteger(lua.State, id);
            return 2;
        });
    }

    // The caller's token: the call's .NET functions see it; a call running here ends at its next
    // budget check (a queued one is withdrawn or abandoned by the cancelled delivery).
    private static void CancelCall(object? state)
    {
        var (owner, call) = ((LuaStateThread, HostedCall))state!;
        call.Cancel();
        if (call.Inline is not null)
        {
            owner.EndIfRunning(call.Id);
        }
    }

    // Queued, then cancelled before Lua got it: it never runs.
    private static void Dropped(HostedCall call, CancelReason reason) => call.Cancel();

    // Lua thread: hosting.lua's call(reply, id, path, args...); dispatch puts reply (the
    // waitingthread_callback) in front.
    private int DecodeCall(LuaStack lua, HostedCall call)
    {
        nint L = lua.State;
        var arguments = call.Arguments;
        if (lua_checkstack(L, arguments.Length + 8) == 0)
        {
            throw new LuaConversionException($"{call.Path}: too many arguments ({arguments.Length}) for the Lua stack");
        }
        lua_rawgeti(L, LUA_REGISTRYINDEX, CallFunction);
        lua_pushinteger(L, call.Id);
        lua_pushstring(L, call.Path);
        for (int i = 0; i < arguments.Length; i++)
        {
            LuaCodec.Push(L, arguments[i], "args", i + 1);
        }
        Interlocked.Exchange(ref call.ReachedLua, 1);
        if (call.Timed)
        {
            Volatile.Write(ref call.DecodedAt, Stopwatch.GetTimestamp());
        }
        return 3 + arguments.Length;
    }

    // Lua thread: what the call's reply was called with.
    private static CallOutcome<TResult> AnswerOf<TResult>(LuaStack lua, bool garbage) =>
        garbage
            ? CallOutcome<TResult>.Failed(new LuaStateUnavailableException("The call's answer was dropped: the state closed, or Lua let go of its reply without answering.", reachedLua: true))
            : CallOutcome<TResult>.Read(lua.State, 1);
}
