using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using DarkSideSync.Hosting.Calls;
using DarkSideSync.Hosting.Codec;
using DarkSideSync.Hosting.State;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.Bridge;

/// <summary>
/// The .NET functions a state exports (<see cref="LuaExports"/>), as Lua calls them: a C function
/// per export (upvalue 1: the state, 2: the export's index) wrapped by hosting.lua's
/// <c>sync</c> or <c>async</c>, which raise the errors these return. An async one starts its task
/// and returns a token; the task's outcome comes back as a DSS delivery that resumes the
/// call's coroutine (past the queue's bound: a bound limits producers, not the answers that
/// let Lua finish what it started). Lua thread, except <see cref="Resume"/>.
/// </summary>
internal static unsafe class ExportFunctions
{
    /// <summary>What is known of an export once, at start: how to call it, what it returns, and (async) how to read its task's result.</summary>
    internal sealed record Export(string Name, Delegate Function, Type[] Parameters, bool IsAsync, Type? ResultType, PropertyInfo? TaskResult);

    /// <summary>Lua thread, at start: sets every export where its name says. <paramref name="module"/>: hosting.lua's table.</summary>
    public static void Install(lua_State L, int module, nint self, LuaExports exports, LuaStateThread owner)
    {
        var table = exports.Functions.Select(f => Describe(f.Key, f.Value)).ToArray();
        owner.Exports = table;
        for (int i = 0; i < table.Length; i++)
        {
            var export = table[i];
            lua_getfield(L, module, "export\0"u8);
            lua_pushstring(L, export.Name);
            lua_getfield(L, module, export.IsAsync ? "async\0"u8 : "sync\0"u8);
            lua_pushlightuserdata(L, (void*)self);
            lua_pushinteger(L, i);
            lua_pushcclosure(L, &Invoke, 2);
            lua_pushstring(L, export.Name);
            if (lua_pcall(L, 2, 1) != LUA_OK || lua_pcall(L, 2, 0) != LUA_OK)
            {
                throw new LuaStartupException($"exporting {export.Name}: {lua_tostring(L, -1)}");
            }
        }
    }

    private static Export Describe(string name, Delegate function)
    {
        var method = function.Method;
        var returns = method.ReturnType;
        bool isAsync = returns == typeof(Task) || returns == typeof(ValueTask)
            || (returns.IsGenericType && (returns.GetGenericTypeDefinition() == typeof(Task<>) || returns.GetGenericTypeDefinition() == typeof(ValueTask<>)));
        Type? result = isAsync
            ? (returns.IsGenericType ? returns.GetGenericArguments()[0] : null)
            : (returns == typeof(void) ? null : returns);
        var taskResult = isAsync && result is not null ? typeof(Task<>).MakeGenericType(result).GetProperty(nameof(Task<int>.Result)) : null;
        return new Export(name, function, method.GetParameters().Select(p => p.ParameterType).ToArray(), isAsync, result, taskResult);
    }

    // A sync export: (true, result) or (false, message). An async one: its token, or (nil, message).
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Invoke(lua_State L)
    {
        Export? export = null;
        try
        {
            var owner = CoreFunctions.Owner(L);
            export = owner.Exports[(int)lua_tointegerx(L, lua_upvalueindex(2), null)];
            if (export is null)
            {
                return Failure(L, false, "the .NET function is gone");
            }
            owner.CallsByCoroutine.TryGetValue(L, out var call);
            if (export.IsAsync && call is null)
            {
                return Failure(L, true, $"'{export.Name}' is an async .NET function: call it in the hosted call itself, not in a coroutine of its own");
            }
            var arguments = Arguments(L, export, call);
            object? result;
            try
            {
                result = export.Function.DynamicInvoke(arguments);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                return Failure(L, export.IsAsync, $"{export.Name}: {e.InnerException.Message}");
            }
            if (export.IsAsync)
            {
                long token = owner.NextToken();
                var task = AsTask(result);
                task.ContinueWith(static (t, s) =>
                {
                    var (o, e, k) = ((LuaStateThread, Export, long))s!;
                    Resume(o, e, k, t);
                }, (owner, export, token), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                lua_pushinteger(L, token);
                return 1;
            }
            lua_pushboolean(L, 1);
            if (export.ResultType is null)
            {
                return 1;
            }
            LuaCodec.Push(L, result);
            return 2;
        }
        catch (Exception e)
        {
            return Failure(L, export?.IsAsync ?? false, $"{export?.Name ?? "a .NET function"}: {e.Message}");
        }
    }

    private static object?[] Arguments(lua_State L, Export export, HostedCall? call)
    {
        var arguments = new object?[export.Parameters.Length];
        int next = 1;
        for (int i = 0; i < arguments.Length; i++)
        {
            var type = export.Parameters[i];
            if (type == typeof(CancellationToken))
            {
                arguments[i] = call?.Token ?? CancellationToken.None;
                continue;
            }
            arguments[i] = next <= lua_gettop(L) ? LuaCodec.Read(L, next, type) : LuaCodec.Read(L, lua_gettop(L) + 1, type);
            next++;
        }
        return arguments;
    }

    private static int Failure(lua_State L, bool isAsync, string message)
    {
        if (isAsync)
        {
            lua_pushnil(L);
        }
        else
        {
            lua_pushboolean(L, 0);
        }
        lua_pushstring(L, message);
        return 2;
    }

    private static Task AsTask(object? result) => result switch
    {
        Task task => task,
        ValueTask valueTask => valueTask.AsTask(),
        null => Task.CompletedTask,
        _ => (Task)result.GetType().GetMethod(nameof(ValueTask<int>.AsTask))!.Invoke(result, null)!,
    };

    // Any thread, when the task completed: hosting.lua's resume(token, true, result) or
    // resume(token, false, message). Refused once the state stopped: then nobody waits for it.
    private static void Resume(LuaStateThread owner, Export export, long token, Task task)
    {
        object? value = null;
        string? failure = null;
        if (task.IsFaulted)
        {
            failure = $"{export.Name}: {task.Exception!.InnerException?.Message ?? task.Exception.Message}";
        }
        else if (task.IsCanceled)
        {
            failure = $"{export.Name}: the .NET call was cancelled";
        }
        else if (export.TaskResult is { } taskResult)
        {
            value = taskResult.GetValue(task);
        }
        owner.Utility.DeliverPastTheBound((owner, token, value, failure, export.ResultType is not null), static (lua, item) =>
        {
            var (o, t, v, f, hasValue) = item;
            nint L = lua.State;
            lua_rawgeti(L, LUA_REGISTRYINDEX, o.ResumeFunction);
            lua_pushinteger(L, t);
            if (f is not null)
            {
                lua_pushboolean(L, 0);
                lua_pushstring(L, f);
                return 4;
            }
            lua_pushboolean(L, 1);
            if (!hasValue)
            {
                return 3;
            }
            try
            {
                LuaCodec.Push(L, v, "result");
                return 4;
            }
            catch (LuaConversionException e)
            {
                // The codec left the stack as it was: the call gets the error instead of the value.
                lua_pop(L, 1);
                lua_pushboolean(L, 0);
                lua_pushstring(L, $"the .NET result cannot be a Lua value: {e.Message}");
                return 4;
            }
        });
    }
}
