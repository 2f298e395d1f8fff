using System.Linq.Expressions;
using System.Reflection;
using System.Text;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Codec;

/// <summary>
/// Records, classes and structs become a table keyed by their public readable instance
/// properties and public fields, named as written in C# (<c>Price</c> stays <c>Price</c>); a
/// member whose value is null is left out. Each member's getter and push are one compiled
/// delegate, built once per type, so pushing a member costs no reflection and no boxing of
/// its value when it is an int, long, double, bool or string.
/// </summary>
internal sealed class ObjectPusher : Pusher
{
    private readonly Type type;
    private readonly Member[] members;

    private ObjectPusher(Type type, Member[] members)
    {
        this.type = type;
        this.members = members;
    }

    public static Pusher Create(Type type)
    {
        var chosen = new Dictionary<string, MemberInfo>(StringComparer.Ordinal);
        foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetMethod is { IsPublic: true } && property.GetIndexParameters().Length == 0)
            {
                Choose(chosen, property);
            }
        }
        foreach (FieldInfo field in type.GetFields(BindingFlags.Public | BindingFlags.Instance))
        {
            Choose(chosen, field);
        }
        if (chosen.Count == 0)
        {
            return new UnsupportedPusher(type, "it has no public properties or fields");
        }
        var members = new List<Member>(chosen.Count);
        foreach (MemberInfo member in chosen.Values)
        {
            Type memberType = member is PropertyInfo p ? p.PropertyType : ((FieldInfo)member).FieldType;
            if (memberType.IsPointer || memberType.IsByRefLike || memberType.IsByRef)
            {
                return new UnsupportedPusher(type, $"its member {member.Name} is a pointer or a ref struct");
            }
            members.Add(new Member(member.Name, Encoding.UTF8.GetBytes(member.Name + "\0"), Compile(type, member, memberType)));
        }
        return new ObjectPusher(type, [.. members]);
    }

    public override void Push(lua_State L, object value, ConversionWalk walk)
    {
        walk.EnterObject(type.IsValueType ? null : value);
        MakeRoomForTable(L);
        lua_createtable(L, 0, members.Length);
        int i = 0;
        try
        {
            for (; i < members.Length; i++)
            {
                Member member = members[i];
                member.Push(L, value, walk);
                if (lua_type(L, -1) == LUA_TNIL)
                {
                    lua_pop(L, 1);
                }
                else
                {
                    // A fresh table without a metatable: lua_setfield is a raw set here.
                    lua_setfield(L, -2, member.NameZ);
                }
            }
        }
        catch (LuaConversionException e) when (e.Within(PathSegments.Field(members[i].Name)))
        {
            throw;
        }
        catch (Exception e) when (e is not LuaConversionException)
        {
            throw new LuaConversionException(
                $"reading {TypeNames.Of(type)}.{members[i].Name} threw {e.GetType().Name}: {e.Message}", e)
                .WithSegment(PathSegments.Field(members[i].Name));
        }
        walk.ExitObject();
    }

    // A property hidden with `new` appears once per declaring type: the most derived one wins.
    private static void Choose(Dictionary<string, MemberInfo> chosen, MemberInfo member)
    {
        if (!chosen.TryGetValue(member.Name, out MemberInfo? existing)
            || (member.DeclaringType is { } declaring && existing.DeclaringType is { } other && declaring.IsSubclassOf(other)))
        {
            chosen[member.Name] = member;
        }
    }

    // (L, obj, walk) => LuaCodec.PushValue<TMember>(L, ((TType)obj).Member, walk)
    private static Action<lua_State, object, ConversionWalk> Compile(Type type, MemberInfo member, Type memberType)
    {
        ParameterExpression state = Expression.Parameter(typeof(lua_State), "L");
        ParameterExpression instance = Expression.Parameter(typeof(object), "obj");
        ParameterExpression walk = Expression.Parameter(typeof(ConversionWalk), "walk");
        Expression typed = Expression.Convert(instance, type);
        Expression read = member is PropertyInfo property
            ? Expression.Property(typed, property)
            : Expression.Field(typed, (FieldInfo)member);
        MethodInfo push = typeof(LuaCodec).GetMethod(nameof(LuaCodec.PushValue), BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static)!
            .MakeGenericMethod(memberType);
        return Expression.Lambda<Action<lua_State, object, ConversionWalk>>(
            Expression.Call(push, state, read, walk), state, instance, walk).Compile();
    }

    private readonly record struct Member(string Name, byte[] NameZ, Action<lua_State, object, ConversionWalk> Push);
}
