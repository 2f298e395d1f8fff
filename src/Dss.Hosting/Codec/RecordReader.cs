using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Codec;

/// <summary>
/// Records, classes and structs from a table. Which constructor: the only public one; else a
/// public parameterless one; else the public one with the most parameters (a struct without
/// public constructors starts from default). Its parameters, and the public settable properties
/// and fields it does not cover (init ones too), are the slots: each matches a string key
/// ignoring case. Other keys are ignored; two keys for one slot are an error. A missing
/// parameter takes its default value, else null when nullable (int?, string?), else is an
/// error; a missing settable member keeps its initial value unless it is `required`.
/// </summary>
internal static class RecordReader
{
    // Marks a slot no key has filled.
    internal static readonly object NotSet = new();

    public static Reader Create(Type type)
    {
        ConstructorInfo[] constructors = type.GetConstructors(BindingFlags.Public | BindingFlags.Instance);
        ConstructorInfo? constructor;
        if (constructors.Length == 1)
        {
            constructor = constructors[0];
        }
        else if (constructors.Length == 0)
        {
            if (!type.IsValueType)
            {
                return Unsupported(type, "it has no public constructor");
            }
            constructor = null;
        }
        else
        {
            constructor = constructors.FirstOrDefault(c => c.GetParameters().Length == 0);
            if (constructor is null)
            {
                int most = constructors.Max(c => c.GetParameters().Length);
                ConstructorInfo[] widest = [.. constructors.Where(c => c.GetParameters().Length == most)];
                if (widest.Length > 1)
                {
                    return Unsupported(type, $"it has {widest.Length} public constructors with {most} parameters: which one to call is ambiguous");
                }
                constructor = widest[0];
            }
        }
        var nullability = new NullabilityInfoContext();
        var slots = new List<Slot>();
        var byName = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (ParameterInfo parameter in constructor?.GetParameters() ?? [])
        {
            if (parameter.ParameterType.IsByRef || parameter.ParameterType.IsPointer || parameter.ParameterType.IsByRefLike || parameter.Name is null)
            {
                return Unsupported(type, $"its constructor takes {parameter.Name} by reference or as a pointer");
            }
            bool nullable = IsNullable(parameter.ParameterType, () => nullability.Create(parameter).WriteState);
            object? missing = parameter.HasDefaultValue ? DefaultOf(parameter) : nullable ? null : NotSet;
            if (!byName.TryAdd(parameter.Name, slots.Count))
            {
                return Unsupported(type, $"its constructor parameters {parameter.Name} and {slots[byName[parameter.Name]].Name} differ only in case");
            }
            slots.Add(new Slot(parameter.Name, parameter.ParameterType, missing, $"constructor parameter {parameter.Name}", null));
        }
        int parameterCount = slots.Count;
        foreach (MemberInfo member in SettableMembers(type))
        {
            if (byName.ContainsKey(member.Name))
            {
                continue; // set through the constructor
            }
            Type memberType = member is PropertyInfo p ? p.PropertyType : ((FieldInfo)member).FieldType;
            if (memberType.IsByRefLike || memberType.IsPointer)
            {
                continue; // cannot hold a Lua value; left alone
            }
            bool required = member.IsDefined(typeof(RequiredMemberAttribute), true);
            byName.Add(member.Name, slots.Count);
            slots.Add(new Slot(member.Name, memberType, NotSet, required ? $"required member {member.Name}" : null, member));
        }
        Func<object?[], object> build = Compile(type, constructor, slots, parameterCount);
        return (Reader)Activator.CreateInstance(
            typeof(RecordReader<>).MakeGenericType(type), slots.ToArray(), byName, parameterCount, build)!;
    }

    private static IEnumerable<MemberInfo> SettableMembers(Type type)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod is { IsPublic: true } && property.GetIndexParameters().Length == 0 && seen.Add(property.Name))
            {
                yield return property;
            }
        }
        foreach (FieldInfo field in type.GetFields(BindingFlags.Public | BindingFlags.Instance))
        {
            if (!field.IsInitOnly && seen.Add(field.Name))
            {
                yield return field;
            }
        }
    }

    private static bool IsNullable(Type type, Func<NullabilityState> annotation) =>
        type.IsValueType ? Nullable.GetUnderlyingType(type) is not null : annotation() != NullabilityState.NotNull;

    private static object? DefaultOf(ParameterInfo parameter)
    {
        object? value = parameter.DefaultValue;
        Type type = parameter.ParameterType;
        if (value is null or DBNull or Missing)
        {
            return type.IsValueType && Nullable.GetUnderlyingType(type) is null ? RuntimeHelpers.GetUninitializedObject(type) : null;
        }
        // An enum default comes back as its underlying integer.
        Type target = Nullable.GetUnderlyingType(type) ?? type;
        return target.IsEnum ? Enum.ToObject(target, value) : value;
    }

    // values => { var x = new T((P0)values[0], ...); if (values[k] != NotSet) x.Mk = (Mk)values[k]; ...; return (object)x; }
    private static Func<object?[], object> Compile(Type type, ConstructorInfo? constructor, List<Slot> slots, int parameterCount)
    {
        ParameterExpression values = Expression.Parameter(typeof(object?[]), "values");
        ParameterExpression instance = Expression.Variable(type, "x");
        var body = new List<Expression>();
        Expression Value(int k) => Expression.Convert(Expression.ArrayIndex(values, Expression.Constant(k)), slots[k].Type);
        body.Add(Expression.Assign(instance, constructor is null
            ? Expression.Default(type)
            : Expression.New(constructor, Enumerable.Range(0, parameterCount).Select(Value))));
        for (int k = parameterCount; k < slots.Count; k++)
        {
            Expression target = slots[k].Member is PropertyInfo property
                ? Expression.Property(instance, property)
                : Expression.Field(instance, (FieldInfo)slots[k].Member!);
            body.Add(Expression.IfThen(
                Expression.ReferenceNotEqual(Expression.ArrayIndex(values, Expression.Constant(k)), Expression.Constant(NotSet)),
                Expression.Assign(target, Value(k))));
        }
        body.Add(Expression.Convert(instance, typeof(object)));
        return Expression.Lambda<Func<object?[], object>>(Expression.Block([instance], body), values).Compile();
    }

    private static Reader Unsupported(Type type, string reason) =>
        (Reader)Activator.CreateInstance(typeof(UnsupportedReader<>).MakeGenericType(type), reason)!;

    /// <summary>One constructor parameter or settable member.</summary>
    /// <param name="Missing">The value when no key fills it: <see cref="NotSet"/> for a member (left as it is) or a parameter that must be given.</param>
    /// <param name="RequiredAs">Why a missing key is an error ("constructor parameter name"), or null when it is not.</param>
    internal sealed record Slot(string Name, Type Type, object? Missing, string? RequiredAs, MemberInfo? Member)
    {
        private Reader? reader;

        // Resolved on first use: a record that contains itself (a tree) is no recursion.
        public Reader Reader => reader ??= Readers.For(Type);

        public bool IsRequired => RequiredAs is not null && (Member is not null || ReferenceEquals(Missing, NotSet));
    }
}

internal sealed class RecordReader<T>(
    RecordReader.Slot[] slots, Dictionary<string, int> byName, int parameterCount, Func<object?[], object> build) : Reader<T>
{
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> lookup = byName.GetAlternateLookup<ReadOnlySpan<char>>();

    public override T Read(lua_State L, int index, ConversionWalk walk)
    {
        int type = lua_type(L, index);
        if (type != LUA_TTABLE)
        {
            return NilOrMismatch(L, index, type);
        }
        walk.EnterTable(L, index);
        MakeRoom(L);
        var values = new object?[slots.Length];
        Array.Fill(values, RecordReader.NotSet);
        int keyIndex = lua_gettop(L) + 1;
        int valueIndex = keyIndex + 1;
        lua_pushnil(L);
        try
        {
            while (lua_next(L, index) != 0)
            {
                if (lua_type(L, keyIndex) == LUA_TSTRING && Slot(L, keyIndex) is int k and >= 0)
                {
                    if (!ReferenceEquals(values[k], RecordReader.NotSet))
                    {
                        throw new LuaConversionException($"another key also matches {TypeNames.Of(typeof(T))}.{slots[k].Name} (keys match ignoring case)");
                    }
                    values[k] = slots[k].Reader.ReadBoxed(L, valueIndex, walk);
                }
                lua_settop(L, keyIndex);
            }
        }
        catch (LuaConversionException e) when (e.Within(PathSegments.LuaKey(L, keyIndex)))
        {
            throw;
        }
        for (int k = 0; k < slots.Length; k++)
        {
            if (!ReferenceEquals(values[k], RecordReader.NotSet))
            {
                continue;
            }
            RecordReader.Slot slot = slots[k];
            if (slot.IsRequired)
            {
                throw new LuaConversionException(
                    $"missing key {TypeNames.Quoted(slot.Name)}: {TypeNames.Of(typeof(T))} needs it ({slot.RequiredAs})")
                    .WithSegment(PathSegments.Field(slot.Name));
            }
            if (k < parameterCount)
            {
                values[k] = slot.Missing;
            }
        }
        T result;
        try
        {
            result = (T)build(values);
        }
        catch (Exception e)
        {
            throw new LuaConversionException($"constructing {TypeNames.Of(typeof(T))} threw {e.GetType().Name}: {e.Message}", e);
        }
        walk.ExitTable();
        return result;
    }

    // The slot of the string key at keyIndex, or -1; no allocation for keys up to 128 bytes.
    private int Slot(lua_State L, int keyIndex)
    {
        ReadOnlySpan<byte> utf8 = LuaStrings.Bytes(L, keyIndex);
        if (utf8.Length <= 128)
        {
            Span<char> chars = stackalloc char[128];
            int length = Encoding.UTF8.GetChars(utf8, chars);
            return lookup.TryGetValue(chars[..length], out int found) ? found : -1;
        }
        return byName.TryGetValue(Encoding.UTF8.GetString(utf8), out int slot) ? slot : -1;
    }
}
