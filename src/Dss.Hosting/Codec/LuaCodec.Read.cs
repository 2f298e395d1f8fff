using System.Runtime.CompilerServices;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Codec;

// Reading: the entry points. The commonest targets (long, int, double, bool, string) are read
// without a reader lookup and, for the numbers and bool, without allocating.
internal static partial class LuaCodec
{
    /// <summary>Reads the value at <paramref name="index"/> as <paramref name="target"/> (object: the natural .NET value). The stack is unchanged.</summary>
    public static object? Read(lua_State L, int index, Type target) => Read(L, index, target, DefaultRoot, 0);

    /// <summary>As <see cref="Read(lua_State, int, Type)"/>; errors name the value <paramref name="root"/>[<paramref name="position"/>].</summary>
    public static object? Read(lua_State L, int index, Type target, string root, int position = 0)
    {
        ArgumentNullException.ThrowIfNull(target);
        CheckIndex(L, index);
        return ReadWith(L, index, Readers.For(target), root, position);
    }

    /// <summary>Reads the value at <paramref name="index"/> as <typeparamref name="T"/>; null for nil when T is a reference type or Nullable. The stack is unchanged.</summary>
    public static T? Read<T>(lua_State L, int index) => Read<T>(L, index, DefaultRoot, 0);

    /// <summary>As <see cref="Read{T}(lua_State, int)"/>; errors name the value <paramref name="root"/>[<paramref name="position"/>].</summary>
    public static unsafe T? Read<T>(lua_State L, int index, string root, int position = 0)
    {
        CheckIndex(L, index);
        // Fast paths for the value that is what it should be; anything else goes to the reader,
        // which also words the error.
        if (typeof(T) == typeof(long))
        {
            if (lua_isinteger(L, index) != 0)
            {
                long value = lua_tointegerx(L, index, null);
                return Unsafe.As<long, T>(ref value);
            }
        }
        else if (typeof(T) == typeof(double))
        {
            if (lua_type(L, index) == LUA_TNUMBER)
            {
                double value = lua_tonumberx(L, index, null);
                return Unsafe.As<double, T>(ref value);
            }
        }
        else if (typeof(T) == typeof(int))
        {
            if (lua_isinteger(L, index) != 0)
            {
                long value = lua_tointegerx(L, index, null);
                if (value is >= int.MinValue and <= int.MaxValue)
                {
                    int narrowed = (int)value;
                    return Unsafe.As<int, T>(ref narrowed);
                }
            }
        }
        else if (typeof(T) == typeof(bool))
        {
            if (lua_type(L, index) == LUA_TBOOLEAN)
            {
                bool value = lua_toboolean(L, index) != 0;
                return Unsafe.As<bool, T>(ref value);
            }
        }
        else if (typeof(T) == typeof(string))
        {
            if (lua_type(L, index) == LUA_TSTRING)
            {
                return (T)(object)LuaStrings.ReadString(L, index);
            }
        }
        return ReadWith(L, index, ReaderOf<T>.Instance, root, position);
    }

    // Index 0, and a negative index below the bottom of the frame, would make Lua read outside
    // the frame (its API checks are off in release builds).
    private static void CheckIndex(lua_State L, int index)
    {
        if (index == 0 || (index < 0 && index > LUA_REGISTRYINDEX && -index > lua_gettop(L)))
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, "not a valid Lua stack index");
        }
    }

    private static T ReadWith<T>(lua_State L, int index, Reader<T> reader, string root, int position)
    {
        int top = lua_gettop(L);
        int absolute = index > 0 || index <= LUA_REGISTRYINDEX ? index : top + index + 1;
        ConversionWalk walk = ConversionWalk.Rent();
        try
        {
            return reader.Read(L, absolute, walk);
        }
        catch (LuaConversionException e)
        {
            lua_settop(L, top);
            e.AtRoot(root, position);
            throw;
        }
        catch
        {
            lua_settop(L, top);
            throw;
        }
        finally
        {
            ConversionWalk.Return(walk);
        }
    }

    private static object? ReadWith(lua_State L, int index, Reader reader, string root, int position)
    {
        int top = lua_gettop(L);
        int absolute = index > 0 || index <= LUA_REGISTRYINDEX ? index : top + index + 1;
        ConversionWalk walk = ConversionWalk.Rent();
        try
        {
            return reader.ReadBoxed(L, absolute, walk);
        }
        catch (LuaConversionException e)
        {
            lua_settop(L, top);
            e.AtRoot(root, position);
            throw;
        }
        catch
        {
            lua_settop(L, top);
            throw;
        }
        finally
        {
            ConversionWalk.Return(walk);
        }
    }
}
