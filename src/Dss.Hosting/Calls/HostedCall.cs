using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Calls;

/// <summary>
/// One call into a hosted state, from <c>CallAsync</c> until its Lua side is over. Created on
/// the caller's thread; its Lua-side fields belong to the Lua thread.
/// </summary>
internal sealed class HostedCall(long id, string path, object?[] arguments, long budgetNs)
{
    public long Id { get; } = id;

    public string Path { get; } = path;

    public object?[] Arguments { get; } = arguments;

    private CancellationTokenSource? _cancellation; // made when a .NET function first asks for the token
    private int _cancelled;                          // 1 once Cancel ran

    /// <summary>
    /// The token the call's .NET functions get: cancelled when the call times out, is cancelled,
    /// ends, or the state stops. Most calls never ask, so its source is made on first use.
    /// </summary>
    public CancellationToken Token
    {
        get
        {
            var cancellation = Volatile.Read(ref _cancellation);
            if (cancellation is null)
            {
                var made = new CancellationTokenSource();
                cancellation = Interlocked.CompareExchange(ref _cancellation, made, null) ?? made;
            }
            // After the source is published (a fence): a Cancel that missed it set the flag first.
            if (Volatile.Read(ref _cancelled) != 0)
            {
                cancellation.Cancel();
            }
            return cancellation.Token;
        }
    }

    /// <summary>Any thread, any number of times: cancels <see cref="Token"/>, now or when it is first asked for.</summary>
    public void Cancel()
    {
        Interlocked.Exchange(ref _cancelled, 1);
        Volatile.Read(ref _cancellation)?.Cancel();
    }

    /// <summary>Lua thread: the call's coroutine, once it runs (0 before).</summary>
    public nint Coroutine { get; set; }

    /// <summary>Lua thread: Lua-thread time the call may still use (long.MaxValue: no budget).</summary>
    public long BudgetLeftNs { get; set; } = budgetNs;

    /// <summary>
    /// When the caller's timeout ends the call where it runs, through the budget hook
    /// (<c>dss_budget_now_ns</c>); long.MaxValue: never. Set when the state may run calls on their
    /// callers' threads, which no DSS timer watches while they run (a queued call meets it too).
    /// </summary>
    public long TimeoutAtNs { get; init; } = long.MaxValue;

    /// <summary>The answer of a call run on its caller's thread (null: a queued call, answered through DSS).</summary>
    public InlineAnswer? Inline { get; set; }

    /// <summary>Lua thread: when the current slice began (between a resume and its return).</summary>
    public long SliceStartNs { get; set; }

    /// <summary>1 once Lua decoded the call (it runs, or ran): from then on only the Lua side ends it.</summary>
    public int ReachedLua;

    /// <summary>Set by the caller before the delivery: the Lua thread stamps <see cref="DecodedAt"/> (someone listens to the metrics).</summary>
    public bool Timed;

    /// <summary>Lua thread: the <c>Stopwatch</c> timestamp at which the call left the queue (0: not timed, or not yet).</summary>
    public long DecodedAt;
}

/// <summary>What Lua answered a call, read where Lua answered; the caller's thread turns it into the result or an exception.</summary>
internal sealed class CallOutcome<TResult>
{
    private CallOutcome(TResult value, Exception? error, string? kind, string message, string traceback)
    {
        Value = value;
        Error = error;
        Kind = kind;
        Message = message;
        Traceback = traceback;
    }

    public TResult Value { get; }

    /// <summary>The results could not convert, or the state closed: no result.</summary>
    public Exception? Error { get; }

    /// <summary>Lua failed the call: "error", "time", "memory" or "cancelled"; null when it answered.</summary>
    public string? Kind { get; }

    public string Message { get; }

    public string Traceback { get; }

    public static CallOutcome<TResult> Of(TResult value) => new(value, null, null, "", "");

    public static CallOutcome<TResult> Failed(Exception error) => new(default!, error, null, "", "");

    public static CallOutcome<TResult> FailedInLua(string kind, string message, string traceback) => new(default!, null, kind, message, traceback);

    /// <summary>
    /// Reads an answer off the Lua stack: ok at <paramref name="first"/>, then the results, or
    /// the kind, message and traceback of a failure (hosting.lua's reply convention). Never throws.
    /// </summary>
    public static CallOutcome<TResult> Read(nint L, int first)
    {
        int top = lua_gettop(L);
        if (lua_toboolean(L, first) != 0)
        {
            try
            {
                return Of(Codec.LuaCodec.ReadResults<TResult>(L, first + 1, top - first)!);
            }
            catch (LuaConversionException e)
            {
                return Failed(e);
            }
        }
        return FailedInLua(Text(L, first + 1) ?? "error", Text(L, first + 2) ?? "(no message)", Text(L, first + 3) ?? "");
    }

    private static string? Text(nint L, int index) =>
        lua_type(L, index) == LUA_TSTRING
            ? lua_tostring(L, index) : null;

    /// <summary>The result, or the exception that tells the caller what happened to the call at <paramref name="path"/>.</summary>
    public TResult Get(string path, string state) =>
        Error is not null ? throw Error
        : Kind is null ? Value
        : throw Kind switch
        {
            "time" => new LuaBudgetExceededException(path, LuaBudget.Time),
            "memory" => new LuaBudgetExceededException(path, LuaBudget.Memory),
            "cancelled" => new LuaStateUnavailableException($"{state}: {path} was ended by the state's stop.", reachedLua: true),
            _ => new LuaScriptException(path, Message, Traceback),
        };
}
