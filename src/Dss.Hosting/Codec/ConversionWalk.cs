using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Codec;

/// <summary>
/// The nesting of one conversion: the objects (pushing) or tables (reading) from the root down
/// to the one being converted, for the depth limit and cycle detection.
/// </summary>
/// <remarks>
/// One per top-level conversion, on the Lua thread. A spare one per thread is reused, so a
/// conversion of a nested value allocates no walk; a conversion started while another is
/// running on the same thread (a property getter that converts) gets a fresh one.
/// </remarks>
internal sealed class ConversionWalk
{
    /// <summary>Tables nested deeper than this are refused, both ways.</summary>
    public const int MaxDepth = 100;

    [ThreadStatic]
    private static ConversionWalk? spare;

    // objects[0..depth): the .NET values being pushed, outermost first; null for a struct,
    // which cannot be part of a cycle.
    private readonly object?[] objects = new object?[MaxDepth];
    // tables[0..depth): the addresses (lua_topointer) of the Lua tables being read.
    private readonly nint[] tables = new nint[MaxDepth];
    private int depth;

    public static ConversionWalk Rent()
    {
        ConversionWalk? walk = spare;
        if (walk is null)
        {
            return new ConversionWalk();
        }
        spare = null;
        return walk;
    }

    public static void Return(ConversionWalk walk)
    {
        // After a failure the levels were not left one by one.
        Array.Clear(walk.objects, 0, walk.depth);
        walk.depth = 0;
        spare = walk;
    }

    /// <summary>Enters a .NET value that becomes a table; <paramref name="identity"/> is null for structs.</summary>
    public void EnterObject(object? identity)
    {
        if (depth == MaxDepth)
        {
            throw TooDeep();
        }
        if (identity is not null)
        {
            for (int i = 0; i < depth; i++)
            {
                if (ReferenceEquals(objects[i], identity))
                {
                    throw LuaConversionException.Cycle(i, $"cycle: this {TypeNames.Of(identity.GetType())} contains itself");
                }
            }
        }
        objects[depth++] = identity;
    }

    public void ExitObject() => objects[--depth] = null;

    /// <summary>Enters the Lua table at the absolute index <paramref name="index"/>.</summary>
    public unsafe void EnterTable(lua_State L, int index)
    {
        if (depth == MaxDepth)
        {
            throw TooDeep();
        }
        nint address = (nint)lua_topointer(L, index);
        for (int i = 0; i < depth; i++)
        {
            if (tables[i] == address)
            {
                throw LuaConversionException.Cycle(i, "cycle: this table contains itself");
            }
        }
        tables[depth++] = address;
    }

    public void ExitTable() => depth--;

    private static LuaConversionException TooDeep() =>
        new($"too deep: more than {MaxDepth} nested tables");
}
