using System.Text;

namespace DarkSideSync.Hosting.Tests.Support;

/// <summary>Seeded random .NET values for round-trip specs: scalars at their edges, nested lists, dictionaries and records.</summary>
internal sealed class RandomValues(int seed)
{
    private readonly Random random = new(seed);

    public enum Level { Low, Mid, High }

    /// <summary>A record for typed round trips; every member kind the codec reads.</summary>
    public sealed record Doc(
        string Title, long Id, double Score, bool Flag, Level Level, int? Maybe, byte[]? Blob,
        List<Doc> Children, Dictionary<string, double> Metrics, (int Rank, string Label) Pair, DateTime? When);

    /// <summary>A record inside natural trees (read back as a dictionary of its members).</summary>
    public sealed record Leaf(string Name, long Count, double? Ratio);

    public int Next(int max) => random.Next(max);

    /// <summary>A value of the natural world: null only where Lua can hold it (not in lists).</summary>
    public object? Natural(int depth)
    {
        int pick = random.Next(depth <= 0 ? 5 : 8);
        return pick switch
        {
            0 => random.Next(2) == 0,
            1 => Integer(),
            2 => Float(),
            3 => Text(),
            4 => random.Next(4) == 0 ? new Leaf(Text(), Integer(), random.Next(2) == 0 ? null : Float()) : Integer(),
            5 => List(depth),
            6 => Dictionary(depth),
            _ => random.Next(2) == 0 ? List(depth) : Dictionary(depth),
        };
    }

    public Doc Document(int depth) => new(
        Text(), Integer(), Float(), random.Next(2) == 0, (Level)random.Next(3),
        random.Next(3) == 0 ? null : random.Next(int.MinValue, int.MaxValue),
        random.Next(3) == 0 ? null : Bytes(),
        depth <= 0 ? [] : [.. Enumerable.Range(0, random.Next(4)).Select(_ => Document(depth - 1))],
        Enumerable.Range(0, random.Next(4)).Select(_ => Text()).Distinct().ToDictionary(k => k, _ => Float()),
        (random.Next(), Text()),
        random.Next(2) == 0 ? null : new DateTime(random.NextInt64(DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks), DateTimeKind.Utc));

    public long Integer() => random.Next(8) switch
    {
        0 => long.MinValue,
        1 => long.MaxValue,
        2 => 0,
        3 => random.Next(-10, 10),
        _ => random.NextInt64(long.MinValue, long.MaxValue),
    };

    public double Float() => random.Next(12) switch
    {
        0 => double.NaN,
        1 => double.PositiveInfinity,
        2 => double.NegativeInfinity,
        3 => -0.0,
        4 => random.Next(-100, 100), // integral: must stay a float
        5 => double.Epsilon,
        6 => double.MaxValue,
        _ => (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-300, 300)),
    };

    public string Text()
    {
        int length = random.Next(6) == 0 ? random.Next(300, 600) : random.Next(0, 12);
        var text = new StringBuilder(length);
        while (text.Length < length)
        {
            switch (random.Next(6))
            {
                case 0: text.Append('\0'); break;
                case 1: text.Append((char)random.Next(0x80, 0xD800)); break;
                case 2: text.Append(char.ConvertFromUtf32(random.Next(0x10000, 0x10FFFF))); break;
                default: text.Append((char)random.Next(0x20, 0x7F)); break;
            }
        }
        return text.ToString();
    }

    public byte[] Bytes()
    {
        var bytes = new byte[random.Next(0, 40)];
        random.NextBytes(bytes);
        return bytes;
    }

    private List<object?> List(int depth) =>
        [.. Enumerable.Range(0, random.Next(0, 6)).Select(_ => Natural(depth - 1) ?? 0L)];

    private Dictionary<object, object?> Dictionary(int depth)
    {
        var dictionary = new Dictionary<object, object?>();
        int count = random.Next(0, 6);
        for (int i = 0; i < count; i++)
        {
            object key = random.Next(4) switch
            {
                0 => Text(),
                1 => Integer(),
                2 => random.Next(2) == 0,
                _ => random.Next(-1000, 1000) + 0.5,
            };
            dictionary.TryAdd(key, random.Next(8) == 0 ? null : Natural(depth - 1));
        }
        return dictionary;
    }
}
