using System.Collections.Concurrent;
using System.Linq.Expressions;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Codec;

/// <summary>
/// The elements of a ValueTuple or Tuple type, flattened past its TRest (so arity 9 is 9
/// elements), and a compiled constructor from an array of them.
/// </summary>
internal sealed class TupleShape
{
    private static readonly ConcurrentDictionary<Type, TupleShape> ByType = new();

    private TupleShape(Type type)
    {
        var elements = new List<Type>();
        Flatten(type, elements);
        Elements = [.. elements];
        ParameterExpression values = Expression.Parameter(typeof(object?[]), "values");
        int offset = 0;
        Expression built = Construct(type, values, ref offset);
        Build = Expression.Lambda<Func<object?[], object>>(Expression.Convert(built, typeof(object)), values).Compile();
        readers = new Reader?[Elements.Length];
    }

    public Type[] Elements { get; }

    public Func<object?[], object> Build { get; }

    // Resolved on first use, so a tuple of a type that contains the tuple is no recursion.
    private readonly Reader?[] readers;

    public static TupleShape Of(Type type) => ByType.GetOrAdd(type, static t => new TupleShape(t));

    public Reader ReaderAt(int i) => readers[i] ??= Readers.For(Elements[i]);

    private static bool HasRest(Type type) => type.GetGenericArguments().Length == 8;

    private static void Flatten(Type type, List<Type> elements)
    {
        Type[] arguments = type.GetGenericArguments();
        for (int i = 0; i < arguments.Length; i++)
        {
            if (i == 7 && HasRest(type))
            {
                Flatten(arguments[7], elements);
            }
            else
            {
                elements.Add(arguments[i]);
            }
        }
    }

    private static NewExpression Construct(Type type, ParameterExpression values, ref int offset)
    {
        Type[] arguments = type.GetGenericArguments();
        var parameters = new Expression[arguments.Length];
        for (int i = 0; i < arguments.Length; i++)
        {
            parameters[i] = i == 7 && HasRest(type)
                ? Construct(arguments[7], values, ref offset)
                : Expression.Convert(Expression.ArrayIndex(values, Expression.Constant(offset++)), arguments[i]);
        }
        return Expression.New(type.GetConstructor(arguments)!, parameters);
    }
}

/// <summary>A ValueTuple or Tuple from a sequence of exactly its arity: {1, "a"} as (1, "a").</summary>
internal sealed class TupleReader<T> : Reader<T>
{
    private readonly TupleShape shape = TupleShape.Of(typeof(T));

    public override T Read(lua_State L, int index, ConversionWalk walk)
    {
        int type = lua_type(L, index);
        if (type != LUA_TTABLE)
        {
            return NilOrMismatch(L, index, type);
        }
        walk.EnterTable(L, index);
        MakeRoom(L);
        int arity = shape.Elements.Length;
        if (!SequenceReading.HasExactly(L, index, arity))
        {
            throw Mismatch(L, index, $"it needs a sequence of exactly {arity} values");
        }
        var elements = new object?[arity];
        int i = 0;
        try
        {
            for (; i < arity; i++)
            {
                lua_rawgeti(L, index, i + 1);
                elements[i] = shape.ReaderAt(i).ReadBoxed(L, lua_gettop(L), walk);
                lua_pop(L, 1);
            }
        }
        catch (LuaConversionException e) when (e.Within(PathSegments.Index(i + 1)))
        {
            throw;
        }
        walk.ExitTable();
        return (T)shape.Build(elements);
    }
}
