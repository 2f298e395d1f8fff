using KeraLua;

namespace DarkSideSync.Sample;

/// <summary>
/// A C# utility that gives Lua <c>workers.primes(from, to, review [, timeout_ms])</c>: a
/// background worker counts the primes in [from, to) and then waits for Lua's verdict.
/// Lua's <c>review(reply, worker, from, to, count)</c> answers with <c>reply("keep")</c> or
/// <c>reply("drop")</c>, now or later; after <c>timeout_ms</c> the worker stops waiting.
/// </summary>
/// <remarks>This sample has one Lua state, so the registration is a static.</remarks>
internal static class WorkerPoolUtility
{
    private static readonly object LibraryId = new();

    // Lua keeps only a native pointer to the delegate; this field keeps the GC from collecting it.
    private static readonly LuaFunction PrimesFunction = Primes;

    private static readonly List<Task> Workers = []; // every worker started; guarded by itself
    private static DssUtility? _utility;              // set once, on the Lua thread, by Install
    private static int _kept, _dropped, _unanswered;

    public static string Summary =>
        $"{Volatile.Read(ref _kept)} kept, {Volatile.Read(ref _dropped)} dropped, {Volatile.Read(ref _unanswered)} without an answer";

    /// <summary>Lua thread, after <c>require "darksidesync"</c>: registers with DSS and sets the global <c>workers</c>.</summary>
    public static void Install(Lua lua)
    {
        var status = DssUtility.Register(lua.Handle, LibraryId, static u => u.Unregister(), out _utility);
        if (status != DssStatus.Success)
        {
            throw new InvalidOperationException($"DSS refused the worker pool: {status}.");
        }
        lua.NewTable();
        lua.PushCFunction(PrimesFunction);
        lua.SetField(-2, "primes");
        lua.SetGlobal("workers");
    }

    /// <summary>Completes when every worker has its answer (or gave up).</summary>
    public static Task WhenIdle()
    {
        lock (Workers)
        {
            return Task.WhenAll(Workers);
        }
    }

    // Lua thread. Bad arguments are returned as (nil, message), never raised: a Lua error
    // would longjmp through this C# frame.
    private static int Primes(nint state)
    {
        var lua = Lua.FromIntPtr(state);
        long? from = lua.ToIntegerX(1);
        long? to = lua.ToIntegerX(2);
        long? timeout = lua.IsNoneOrNil(4) ? 0 : lua.ToIntegerX(4);
        if (from is not >= 0 || to is not { } end || end < from || !lua.IsFunction(3) || timeout is not >= 0 || _utility is not { } utility)
        {
            lua.PushNil();
            lua.PushString("usage: workers.primes(from >= 0, to >= from, review [, timeout_ms >= 0])");
            return 2;
        }
        lua.PushCopy(3);
        var review = new LuaReference(lua.Ref(LuaRegistry.Index));
        int worker;
        lock (Workers)
        {
            worker = Workers.Count + 1;
            var question = new Question(review, worker, from.Value, end, Count: 0);
            var patience = timeout > 0 ? TimeSpan.FromMilliseconds(timeout.Value) : (TimeSpan?)null;
            Workers.Add(Task.Run(() => WorkAsync(utility, question, patience)));
        }
        lua.PushInteger(worker);
        return 1;
    }

    // A thread-pool thread: the work, then the question to Lua, then what the worker makes of the answer.
    private static async Task WorkAsync(DssUtility utility, Question question, TimeSpan? timeout)
    {
        question = question with { Count = CountPrimes(question.From, question.To) };
        string what = $"{question.Count} primes in [{question.From}, {question.To})";
        try
        {
            string? verdict = await utility.DeliverAndWaitAsync(question, Decode, ReadVerdict, timeout).ConfigureAwait(false);
            bool keep = verdict == "keep";
            Interlocked.Increment(ref keep ? ref _kept : ref _dropped);
            Story.Tell($"worker {question.Worker}", $"Lua said \"{verdict ?? "nothing"}\": {(keep ? "keeping" : "dropping")} {what}");
        }
        catch (DssDeliveryCanceledException e)
        {
            Interlocked.Increment(ref _unanswered);
            string why = e.Reason switch
            {
                CancelReason.Timeout => $"waited {timeout?.TotalMilliseconds} ms",
                CancelReason.DssStopped => "DSS stopped",
                CancelReason.UtilityUnregistered => "the pool was unregistered",
                _ => "cancelled",
            };
            string seen = e.ReachedLua ? "Lua has the question but did not answer" : "Lua never saw the question";
            Story.Tell($"worker {question.Worker}", $"gave up, {why} ({seen}): {what} not kept");
        }
        catch (DssDeliveryRefusedException e)
        {
            Interlocked.Increment(ref _unanswered);
            Story.Tell($"worker {question.Worker}", $"could not ask Lua ({e.Status}): {what} not kept");
        }
    }

    // Lua thread, inside poll(): review(reply, worker, from, to, count); DSS puts reply first.
    private static int Decode(LuaStack lua, Question question)
    {
        lua.Push(question.Review);
        lua.Release(question.Review); // one question per review reference: the copy on the stack is enough
        lua.PushInteger(question.Worker);
        lua.PushInteger(question.From);
        lua.PushInteger(question.To);
        lua.PushInteger(question.Count);
        return 5;
    }

    // Lua thread, when Lua calls reply(verdict); garbage: Lua dropped reply without calling it.
    private static string? ReadVerdict(LuaStack lua, bool garbage) => garbage ? null : lua.ToStringAt(1);

    private static long CountPrimes(long from, long to)
    {
        long count = 0;
        for (long n = Math.Max(from, 2); n < to; n++)
        {
            bool prime = true;
            for (long d = 2; d * d <= n && prime; d++)
            {
                prime = n % d != 0;
            }
            count += prime ? 1 : 0;
        }
        return count;
    }

    private sealed record Question(LuaReference Review, int Worker, long From, long To, long Count);
}
