using DarkSideSync.Hosting.Codec;
using KeraLua;

namespace DarkSideSync.Hosting.Tests.Support;

/// <summary>
/// A real Lua state for codec specs (KeraLua's liblua54.so, standard libraries open), with
/// helpers that run Lua code, evaluate Lua expressions and move values through the codec.
/// </summary>
internal sealed class LuaHarness : IDisposable
{
    // UTF-8 chunks: KeraLua encodes the source of DoString/LoadString with Lua.Encoding.
    public LuaHarness() => Lua = new Lua { Encoding = System.Text.Encoding.UTF8 };

    public Lua Lua { get; }

    public nint L => Lua.Handle;

    public int Top => Lua.GetTop();

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

    /// <summary>Pushes the value of a Lua expression.</summary>
    public void PushExpression(string expression)
    {
        if (Lua.LoadString("return " + expression) != LuaStatus.OK || Lua.PCall(0, 1, 0) != LuaStatus.OK)
        {
            string message = Lua.ToString(-1);
            Lua.Pop(1);
            throw new InvalidOperationException("Lua error: " + message);
        }
    }

    /// <summary>Runs a chunk and leaves all its results on the stack; returns (index of the first, count).</summary>
    public (int First, int Count) PushResults(string chunk)
    {
        int top = Top;
        if (Lua.LoadString(chunk) != LuaStatus.OK || Lua.PCall(0, -1, 0) != LuaStatus.OK)
        {
            string message = Lua.ToString(-1);
            Lua.Pop(1);
            throw new InvalidOperationException("Lua error: " + message);
        }
        return (top + 1, Top - top);
    }

    /// <summary>Reads the results of a chunk as T with ReadResults, then pops them.</summary>
    public T? Results<T>(string chunk)
    {
        int top = Top;
        (int first, int count) = PushResults(chunk);
        try
        {
            return LuaCodec.ReadResults<T>(L, first, count);
        }
        finally
        {
            Lua.SetTop(top);
        }
    }

    /// <summary>Reads the value of a Lua expression as T through the codec (the stack is left as it was).</summary>
    public T? Eval<T>(string expression)
    {
        PushExpression(expression);
        try
        {
            return LuaCodec.Read<T>(L, -1);
        }
        finally
        {
            Lua.Pop(1);
        }
    }

    public object? Eval(string expression, Type target)
    {
        PushExpression(expression);
        try
        {
            return LuaCodec.Read(L, -1, target);
        }
        finally
        {
            Lua.Pop(1);
        }
    }

    /// <summary>Pushes a .NET value through the codec and stores it in a Lua global.</summary>
    public void SetGlobal(string name, object? value)
    {
        LuaCodec.Push(L, value);
        Lua.SetGlobal(name);
    }

    /// <summary>.NET -> Lua -> .NET: pushes, reads back as <paramref name="target"/>, pops.</summary>
    public object? RoundTrip(object? value, Type target)
    {
        int top = Top;
        LuaCodec.Push(L, value);
        Assert.Equal(top + 1, Top);
        try
        {
            return LuaCodec.Read(L, -1, target);
        }
        finally
        {
            Lua.Pop(1);
        }
    }

    public T? RoundTrip<T>(T value)
    {
        int top = Top;
        LuaCodec.Push(L, value);
        Assert.Equal(top + 1, Top);
        try
        {
            return LuaCodec.Read<T>(L, -1);
        }
        finally
        {
            Lua.Pop(1);
        }
    }

    /// <summary>Runs <paramref name="convert"/>, which must throw; checks the stack top is unchanged and returns the exception.</summary>
    public LuaConversionException Fails(Action convert)
    {
        int top = Top;
        LuaConversionException error = Assert.Throws<LuaConversionException>(convert);
        Assert.Equal(top, Top);
        return error;
    }

    public void Dispose() => Lua.Dispose();
}
