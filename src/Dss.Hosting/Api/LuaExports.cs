using System.Text.RegularExpressions;

namespace DarkSideSync.Hosting;

/// <summary>
/// The .NET functions a hosted state offers Lua, by name (<c>"rates.lookup"</c> becomes the
/// global table <c>rates</c> with a field <c>lookup</c>).
/// </summary>
/// <remarks>
/// Arguments convert from Lua to the parameters' types and the result back (see the codec's
/// rules in the README); a <see cref="CancellationToken"/> parameter gets the call's token,
/// cancelled when the hosted call that runs the Lua code times out, is cancelled, or the
/// state stops. A function returning <see cref="Task"/>, <see cref="Task{TResult}"/>,
/// <see cref="ValueTask"/> or <see cref="ValueTask{TResult}"/> is async: Lua's call yields
/// the call's coroutine until the task completes (the Lua thread serves other calls
/// meanwhile), then returns its result or raises its exception's message. An exception of a
/// synchronous function is raised in Lua the same way.
/// </remarks>
public sealed partial class LuaExports
{
    private readonly List<KeyValuePair<string, Delegate>> _functions = [];

    /// <summary>Adds a function; names are Lua identifiers separated by dots.</summary>
    public LuaExports Add(string name, Delegate function)
    {
        ArgumentNullException.ThrowIfNull(function);
        if (name is null || !NamePattern().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a Lua name (identifiers separated by dots, e.g. \"rates.lookup\").", nameof(name));
        }
        if (_functions.Exists(f => f.Key == name))
        {
            throw new ArgumentException($"A function named '{name}' was added already.", nameof(name));
        }
        _functions.Add(new(name, function));
        return this;
    }

    /// <summary>The functions, in the order they were added.</summary>
    public IReadOnlyList<KeyValuePair<string, Delegate>> Functions => _functions;

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")]
    private static partial Regex NamePattern();
}
