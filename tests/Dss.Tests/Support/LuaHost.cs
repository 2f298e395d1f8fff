using Akka.Actor;
using KeraLua;

namespace DarkSideSync.Tests.Support;

/// <summary>
/// A real KeraLua state with darksidesync loaded as the global <c>darksidesync</c>. The thread
/// that created it is its Lua thread: tests call Lua only from there.
/// </summary>
public sealed class LuaHost : IDisposable
{
    private bool _closed;

    public LuaHost(ActorSystem system)
    {
        Lua = new Lua();
        DssModule.Preload(Lua.Handle, system);
        Run("darksidesync = require 'darksidesync'");
        LuaThreadId = Environment.CurrentManagedThreadId;
    }

    public Lua Lua { get; }

    public nint State => Lua.Handle;

    public int LuaThreadId { get; }

    /// <summary>Runs a chunk; a Lua error fails the test with Lua's message.</summary>
    public void Run(string chunk)
    {
        if (Lua.DoString(chunk))
        {
            string message = Lua.ToString(-1);
            Lua.Pop(1);
            throw new InvalidOperationException("Lua error: " + message);
        }
    }

    /// <summary>Runs a chunk that returns one value and converts it.</summary>
    public long Integer(string expression) => Eval(expression, () => Lua.ToInteger(-1));

    public string? String(string expression) => Eval(expression, () => Lua.ToString(-1));

    public bool Boolean(string expression) => Eval(expression, () => Lua.ToBoolean(-1));

    /// <summary>Runs a chunk expected to raise; returns the error message.</summary>
    public string Error(string chunk)
    {
        if (!Lua.DoString(chunk))
        {
            throw new InvalidOperationException("Expected a Lua error from: " + chunk);
        }
        string message = Lua.ToString(-1);
        Lua.Pop(1);
        return message;
    }

    private T Eval<T>(string expression, Func<T> read)
    {
        int top = Lua.GetTop();
        Run("return " + expression);
        T value = read();
        Lua.SetTop(top);
        return value;
    }

    /// <summary>lua_close: starts stop-DSS through the garbage collector.</summary>
    public void Close()
    {
        if (!_closed)
        {
            _closed = true;
            Lua.Close();
        }
    }

    public void Dispose() => Close();
}
