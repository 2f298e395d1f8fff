namespace DarkSideSync.Hosting;

/// <summary>A hosted call's Lua code raised an error: Lua's message, its traceback and the function path.</summary>
public class LuaScriptException : Exception
{
    public LuaScriptException(string path, string luaMessage, string luaTraceback)
        : this(path, luaMessage, luaTraceback, $"{path}: {luaMessage}")
    {
    }

    protected LuaScriptException(string path, string luaMessage, string luaTraceback, string message)
        : base(message)
    {
        Path = path;
        LuaMessage = luaMessage;
        LuaTraceback = luaTraceback;
    }

    /// <summary>The function that was called, as the caller named it.</summary>
    public string Path { get; }

    /// <summary>The error value Lua raised, as <c>tostring</c> shows it.</summary>
    public string LuaMessage { get; }

    /// <summary>Lua's traceback at the error (empty for a budget or a cancellation).</summary>
    public string LuaTraceback { get; }
}

/// <summary>Which budget a call overran.</summary>
public enum LuaBudget
{
    /// <summary>The call's Lua-thread time.</summary>
    Time,

    /// <summary>The state's Lua memory.</summary>
    Memory,
}

/// <summary>A hosted call overran its time budget or the state's memory budget; the state stays usable.</summary>
public sealed class LuaBudgetExceededException(string path, LuaBudget budget)
    : LuaScriptException(path, budget == LuaBudget.Time ? "time budget exceeded" : "memory budget exceeded", "",
        $"{path}: {(budget == LuaBudget.Time ? "time" : "memory")} budget exceeded")
{
    public LuaBudget Budget { get; } = budget;
}

/// <summary>A hosted call got no answer within its timeout; its late answer, if any, is discarded.</summary>
public sealed class LuaCallTimeoutException(string path, TimeSpan timeout)
    : TimeoutException($"{path}: no answer from Lua within {timeout}")
{
    public string Path { get; } = path;

    public TimeSpan Timeout { get; } = timeout;
}

/// <summary>The state cannot take the call (stopping or stopped, or its bounded queue is full), or stopped before answering it.</summary>
public sealed class LuaStateUnavailableException(string message, DssStatus? status = null, Exception? inner = null, bool reachedLua = false)
    : Exception(message, inner)
{
    /// <summary>DSS's refusal, when DSS refused the call (<see cref="DssStatus.QueueFull"/>: the state is busy).</summary>
    public DssStatus? Status { get; } = status;

    /// <summary>False when Lua never saw the call (refused, or withdrawn before it ran): trying it elsewhere cannot run it twice.</summary>
    public bool ReachedLua { get; } = reachedLua;
}

/// <summary>A start-up script failed (or the state could not be set up): the state did not start.</summary>
public sealed class LuaStartupException(string message, string luaTraceback = "")
    : Exception(message)
{
    public string LuaTraceback { get; } = luaTraceback;
}
