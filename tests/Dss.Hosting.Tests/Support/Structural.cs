using System.Collections;
using System.Globalization;
using System.Text;

namespace DarkSideSync.Hosting.Tests.Support;

/// <summary>
/// Structural comparison of natural values (floats bit for bit, so -0.0 is not 0.0 and NaN is
/// NaN), and what a .NET value pushed and read back as object is expected to be.
/// </summary>
internal static class Structural
{
    /// <summary>The natural value Lua hands back for a pushed value, by the codec's documented rules.</summary>
    public static object? Expected(object? value)
    {
        switch (value)
        {
            case null or bool or long or double or string:
                return value;
            case RandomValues.Leaf leaf:
                var members = new Dictionary<object, object?> { ["Name"] = leaf.Name, ["Count"] = leaf.Count };
                if (leaf.Ratio is { } ratio)
                {
                    members["Ratio"] = ratio;
                }
                return members;
            case List<object?> list:
                // An empty table reads as an empty dictionary.
                return list.Count == 0 ? new Dictionary<object, object?>() : list.Select(Expected).ToList();
            case Dictionary<object, object?> dictionary:
                var present = dictionary.Where(e => e.Value is not null).ToDictionary(e => e.Key, e => Expected(e.Value));
                // Keys that are exactly 1..n make a sequence.
                if (present.Count > 0 && present.Keys.All(k => k is long l && l >= 1 && l <= present.Count))
                {
                    return Enumerable.Range(1, present.Count).Select(i => present[(long)i]).ToList();
                }
                return present;
            default:
                throw new ArgumentException("not a natural test value: " + value.GetType());
        }
    }

    public static bool Same(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (double x, double y) => SameFloat(x, y),
        (List<object?> x, List<object?> y) => x.Count == y.Count && x.Zip(y).All(p => Same(p.First, p.Second)),
        (Dictionary<object, object?> x, Dictionary<object, object?> y) =>
            x.Count == y.Count && x.All(e => y.TryGetValue(e.Key, out object? other) && Same(e.Value, other)),
        (null, _) or (_, null) => false,
        _ => a.GetType() == b.GetType() && a.Equals(b),
    };

    public static bool SameFloat(double x, double y) =>
        double.IsNaN(x) ? double.IsNaN(y) : BitConverter.DoubleToInt64Bits(x) == BitConverter.DoubleToInt64Bits(y);

    public static bool Same(RandomValues.Doc? a, RandomValues.Doc? b)
    {
        if (a is null || b is null)
        {
            return a is null && b is null;
        }
        return a.Title == b.Title && a.Id == b.Id && SameFloat(a.Score, b.Score) && a.Flag == b.Flag && a.Level == b.Level
            && a.Maybe == b.Maybe && (a.Blob is null ? b.Blob is null : b.Blob is not null && a.Blob.AsSpan().SequenceEqual(b.Blob))
            && a.Children.Count == b.Children.Count && a.Children.Zip(b.Children).All(p => Same(p.First, p.Second))
            && a.Metrics.Count == b.Metrics.Count && a.Metrics.All(e => b.Metrics.TryGetValue(e.Key, out double v) && SameFloat(e.Value, v))
            && a.Pair == b.Pair && a.When == b.When && a.When?.Kind == b.When?.Kind;
    }

    /// <summary>A short rendering for failure messages.</summary>
    public static string Show(object? value)
    {
        var text = new StringBuilder();
        Show(value, text);
        return text.Length > 2000 ? text.ToString(0, 2000) + "..." : text.ToString();
    }

    private static void Show(object? value, StringBuilder text)
    {
        switch (value)
        {
            case null: text.Append("null"); break;
            case string s: text.Append('"').Append(s.Length > 20 ? s[..20] + "..." : s).Append('"'); break;
            case double d: text.Append(d.ToString("R", CultureInfo.InvariantCulture)).Append('d'); break;
            case IDictionary dictionary:
                text.Append('{');
                foreach (DictionaryEntry entry in dictionary)
                {
                    Show(entry.Key, text);
                    text.Append(": ");
                    Show(entry.Value, text);
                    text.Append(", ");
                }
                text.Append('}');
                break;
            case IList list:
                text.Append('[');
                foreach (object? item in list)
                {
                    Show(item, text);
                    text.Append(", ");
                }
                text.Append(']');
                break;
            default: text.Append(Convert.ToString(value, CultureInfo.InvariantCulture)); break;
        }
    }
}
