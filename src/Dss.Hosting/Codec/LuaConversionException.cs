using System.Text;

namespace DarkSideSync.Hosting;

/// <summary>
/// A value that cannot cross between .NET and Lua: a .NET value with no Lua form (a delegate, a
/// cycle, a <c>ulong</c> above <see cref="long.MaxValue"/>...), or a Lua value that does not fit
/// the .NET type asked for (a string for an <c>int</c>, 300 for a <c>byte</c>, a function).
/// </summary>
/// <remarks>
/// <see cref="Path"/> says where in the value the problem is, in Lua-like notation from the
/// value's root: <c>args[2].items[3].price</c>, <c>result[1].name</c>, <c>value["a key"]</c>.
/// When it is thrown the Lua stack is as it was before the conversion started.
/// </remarks>
public sealed class LuaConversionException : Exception
{
    private string detail;
    private string root = "value";
    private int rootPosition;
    // The path below the root, innermost segment first: they are added while the exception
    // travels outwards through the nested conversions (exception filters, no cost on success).
    private List<string>? segments;
    // For a cycle: how many segments lead to the first occurrence of the repeated object.
    private int cycleDepth = -1;

    public LuaConversionException()
        : this("The value cannot be converted between .NET and Lua.")
    {
    }

    public LuaConversionException(string message)
        : base(message) => detail = message;

    public LuaConversionException(string message, Exception innerException)
        : base(message, innerException) => detail = message;

    /// <summary>Where the value that failed is: <c>args[2].items[3].price</c>.</summary>
    public string Path => BuildPath(segments?.Count ?? 0);

    public override string Message => cycleDepth < 0
        ? $"{Path}: {detail}"
        : $"{Path}: {detail} (it is already being converted at {BuildPath(cycleDepth)})";

    internal static LuaConversionException Cycle(int depth, string detail) =>
        new(detail) { cycleDepth = depth };

    // Adds the segment that leads from the enclosing value to the one that failed. Returns
    // false so it can run as an exception filter: `catch (LuaConversionException e) when
    // (e.Within(...))` never catches, it only annotates on the way out.
    internal bool Within(string segment)
    {
        (segments ??= []).Add(segment);
        return false;
    }

    // The failure was reading or pushing a table key, not a value.
    internal bool AboutKey()
    {
        if (!detail.StartsWith("key: ", StringComparison.Ordinal))
        {
            detail = "key: " + detail;
        }
        return false;
    }

    internal LuaConversionException WithSegment(string segment)
    {
        Within(segment);
        return this;
    }

    // Names the root: "args" and 2 give "args[2]"; position 0 gives just the name.
    internal void AtRoot(string name, int position)
    {
        root = name;
        rootPosition = position;
    }

    private string BuildPath(int outermostSegments)
    {
        var path = new StringBuilder(root);
        if (rootPosition > 0)
        {
            path.Append('[').Append(rootPosition).Append(']');
        }
        if (segments is not null)
        {
            for (int i = segments.Count - 1, n = 0; i >= 0 && n < outermostSegments; i--, n++)
            {
                path.Append(segments[i]);
            }
        }
        return path.ToString();
    }
}
