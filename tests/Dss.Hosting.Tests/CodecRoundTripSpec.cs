using DarkSideSync.Hosting.Codec;
using DarkSideSync.Hosting.Tests.Support;

namespace DarkSideSync.Hosting.Tests;

/// <summary>Seeded random trees .NET -> Lua -> .NET, directly and through a copy Lua builds itself.</summary>
public sealed class CodecRoundTripSpec : IDisposable
{
    private const int Seed = 20261202;

    // Copies a value with Lua code only, inserting keys in reverse traversal order, so the copy's
    // integer keys land in other places (hash part) than the codec's own tables put them.
    private const string CopyFunction = """
        function copy(v)
          if type(v) ~= 'table' then return v end
          local keys, t = {}, {}
          for k in pairs(v) do keys[#keys + 1] = k end
          for i = #keys, 1, -1 do local k = keys[i]; t[copy(k)] = copy(v[k]) end
          return t
        end
        """;

    private readonly LuaHarness lua = new();

    public CodecRoundTripSpec() => lua.Run(CopyFunction);

    public void Dispose() => lua.Dispose();

    [Fact]
    public void Random_natural_trees_come_back_as_the_rules_say()
    {
        var random = new RandomValues(Seed);
        for (int i = 0; i < 3000; i++)
        {
            object? value = random.Natural(4);
            object? expected = Structural.Expected(value);
            int top = lua.Top;
            LuaCodec.Push(lua.L, value);
            object? direct = LuaCodec.Read<object>(lua.L, -1);
            lua.Lua.SetGlobal("v");
            lua.PushExpression("copy(v)");
            object? copied = LuaCodec.Read<object>(lua.L, -1);
            lua.Lua.Pop(1);
            Assert.Equal(top, lua.Top);
            Assert.True(Structural.Same(expected, direct), $"tree {i} (seed {Seed}): expected {Structural.Show(expected)}, read {Structural.Show(direct)}");
            Assert.True(Structural.Same(expected, copied), $"tree {i} (seed {Seed}), Lua's copy: expected {Structural.Show(expected)}, read {Structural.Show(copied)}");
        }
    }

    [Fact]
    public void Random_records_come_back_equal()
    {
        var random = new RandomValues(Seed + 1);
        for (int i = 0; i < 2000; i++)
        {
            RandomValues.Doc doc = random.Document(3);
            int top = lua.Top;
            LuaCodec.Push(lua.L, doc);
            RandomValues.Doc? direct = LuaCodec.Read<RandomValues.Doc>(lua.L, -1);
            lua.Lua.SetGlobal("v");
            RandomValues.Doc? copied = lua.Eval<RandomValues.Doc>("copy(v)");
            Assert.Equal(top, lua.Top);
            Assert.True(Structural.Same(doc, direct), $"doc {i} (seed {Seed + 1}) read back different: {doc} / {direct}");
            Assert.True(Structural.Same(doc, copied), $"doc {i} (seed {Seed + 1}) from Lua's copy different: {doc} / {copied}");
        }
    }

    [Fact]
    public void Lua_sees_integers_and_floats_as_they_were_pushed_in_random_trees()
    {
        var random = new RandomValues(Seed + 2);
        lua.Run("""
            function keystr(k) return (math.type(k) or type(k)) .. ':' .. tostring(k) end
            function kinds(v, out)
              if math.type(v) then out[#out + 1] = math.type(v)
              elseif type(v) == 'table' then
                local keys = {}
                for k in pairs(v) do keys[#keys + 1] = k end
                table.sort(keys, function(a, b) return keystr(a) < keystr(b) end)
                for _, k in ipairs(keys) do kinds(v[k], out) end
              end
              return out
            end
            """);
        for (int i = 0; i < 1000; i++)
        {
            object? value = random.Natural(3);
            lua.SetGlobal("v", value);
            string fromLua = string.Join(",", lua.Eval<string[]>("kinds(v, {})")!);
            // The same walk over the natural value read back: keys sorted as Lua's tostring does.
            string fromDotNet = string.Join(",", Kinds(lua.Eval<object>("v")));
            Assert.Equal(fromDotNet, fromLua);
        }
    }

    private IEnumerable<string> Kinds(object? value)
    {
        switch (value)
        {
            case long:
                yield return "integer";
                break;
            case double:
                yield return "float";
                break;
            case List<object?> list:
                foreach (object? item in list.Select((v, i) => (v, k: (object)(long)(i + 1))).OrderBy(p => LuaToString(p.k), StringComparer.Ordinal).Select(p => p.v))
                {
                    foreach (string kind in Kinds(item))
                    {
                        yield return kind;
                    }
                }
                break;
            case Dictionary<object, object?> dictionary:
                foreach (KeyValuePair<object, object?> entry in dictionary.OrderBy(e => LuaToString(e.Key), StringComparer.Ordinal))
                {
                    foreach (string kind in Kinds(entry.Value))
                    {
                        yield return kind;
                    }
                }
                break;
        }
    }

    // The sort key Lua uses (its type and tostring), so both sides walk in one order.
    private string LuaToString(object key)
    {
        LuaCodec.Push(lua.L, key);
        lua.Lua.SetGlobal("k");
        return lua.Eval<string>("keystr(k)")!;
    }
}
