/*
 * darksidesync_api.h -- the C API of DarkSideSync (DSS), API versions "DSS API 1v0"
 * and "DSS API 1v1" (1v0, plus deliver_ex with a timeout and queuesize).
 *
 * A utility is a Lua C module whose results are produced on threads of its own (a
 * thread pool, a signal handler, a socket library). It hands each result to DSS with
 * deliver(); DSS queues it, and the Lua thread later has the utility's decode() push
 * it onto the Lua stack. The utility needs no locks of its own: every entry point
 * below is thread-safe.
 *
 * Binary compatible with utilities written for DarkSideSync 1.0: the struct layout,
 * the registry keys and the status codes are those of the 1.0 contract
 * (shared/spec/dss-1v0.md). Only the C names here are new. API 1v1
 * (shared/spec/dss-1v1.md) is a superset published beside 1v0: its struct begins with
 * the 1v0 members; the helper below uses it when DSS offers it and falls back to 1v0.
 *
 * ---------------------------------------------------------------------------------
 * Usage (one shared object, any number of .c files):
 *
 *   // mylib.c -- exactly one .c file of the library defines its storage:
 *   #include "darksidesync_api.h"
 *   DSS_LIB_DEFINE(mylib, "mylib");        // the API pointer; its address is the libid
 *
 *   // other.c -- every other file only declares it:
 *   DSS_LIB_DECLARE(mylib);
 *
 *   static int my_decode(lua_State *L, void *pData, void *utilid) {
 *       struct result *r = pData;
 *       (void)utilid;
 *       if (L == NULL) { free(r); return 0; }        // cancelled: only release pData
 *       lua_rawgeti(L, LUA_REGISTRYINDEX, r->callback_ref);
 *       lua_pushinteger(L, r->value);
 *       free(r);                                     // non-blocking: nothing follows
 *       return 2;                                    // the callback and one argument
 *   }
 *
 *   static void my_cancel(void *utilid) {            // stop-DSS; any thread, never Lua
 *       stop_my_threads();
 *       dss_unregister(&mylib, utilid);
 *   }
 *
 *   int luaopen_mylib(lua_State *L) {
 *       void *utilid = dss_checkregister(L, &mylib, my_cancel);  // raises a Lua error on failure
 *       ...                                          // keep utilid with this Lua state's data
 *   }
 *
 *   // on any thread of the library:
 *   int rc = dss_deliver(&mylib, utilid, my_decode, NULL, result);
 *   if (!dss_delivered(rc)) free(result);            // refused: DSS never saw it
 *
 *   // with a bound on waiting (API 1v1; on a 1v0 DSS it is dss_deliver, no timeout):
 *   rc = dss_deliver_ex(&mylib, utilid, my_decode, my_ret, result, 500);
 *   if (rc == DSS_ERR_TIMED_OUT) ...                 // no answer in time: DSS already called
 *                                                    // decode or ret with L == NULL for it
 * ---------------------------------------------------------------------------------
 *
 * Rules every utility follows:
 *  - reg and getutilid run on the Lua thread (they take the lua_State); deliver and
 *    unreg may be called from any thread, at any time, concurrently.
 *  - One registration per (Lua state, libid). The same library loaded into two Lua
 *    states has two utilids: keep the utilid with the per-state data, never in a
 *    process-wide variable.
 *  - Every decode and return callback must handle L == NULL: the delivery is being
 *    cancelled (the utility unregistered, or DSS stopped). Release what pData holds
 *    and touch no Lua state. DSS then releases a thread blocked in deliver().
 *  - Callbacks must not raise Lua errors (no luaL_check*, no lua_error). DSS survives one
 *    that does (it calls them under lua_pcall): that delivery ends, a blocked deliverer is
 *    released, and poll() or args[1](...) raises the error to its Lua caller.
 *  - No call may deadlock the Lua thread: a deliver that would wait (ret != NULL, or a
 *    full bounded queue with overflow "block") made from inside a hook or on the state's
 *    Lua thread (the one that ran require "darksidesync", until the state is used from
 *    another thread) is refused with DSS_ERR_WOULD_DEADLOCK.
 *  - cancel is called when DSS stops for a Lua state (stop() from Lua, or the state
 *    closing). It may run on a thread that is not the Lua thread and must not touch
 *    the Lua state. It should stop the utility's deliveries and call unreg; a cancel
 *    that does not is unregistered by DSS after it returns.
 */
#ifndef DARKSIDESYNC_API_H
#define DARKSIDESYNC_API_H

#include <lua.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- registry layout ---------------------------------------------------------- */

/* registry[DSS_REGISTRY_KEY] is a table published while DSS runs for the state. */
#define DSS_REGISTRY_KEY   "DSS.DarkSideSync"
/* Its field holding the DSS version string (informational). */
#define DSS_VERSION_KEY    "Version"
/* Its field holding a light userdata: a pointer to a dss_api_1v0 struct. The struct's
   version field holds the same string. */
#define DSS_API_1v0_KEY    "DSS API 1v0"
/* Its field holding a light userdata: a pointer to a dss_api_1v1 struct (DSS 1.1 and
   later; absent from a 1.0 DSS). Published and removed together with the 1v0 field. */
#define DSS_API_1v1_KEY    "DSS API 1v1"

/* ---- status codes (negative, the values are part of the ABI) ------------------ */

#define DSS_SUCCESS                 (-100) /* done */
#define DSS_ERR_UDP_SEND_FAILED     (-99)  /* warning: queued, only the UDP notification failed */
#define DSS_ERR_INVALID_UTILID      (-101) /* unknown or unregistered utilid (also while DSS stops) */
#define DSS_ERR_NOT_STARTED         (-102) /* DSS not started for this state, or stopping/stopped */
#define DSS_ERR_NO_CANCEL_PROVIDED  (-103) /* reg without a cancel function */
#define DSS_ERR_OUT_OF_MEMORY       (-104) /* allocation failed */
#define DSS_ERR_NO_DECODE_PROVIDED  (-105) /* deliver without a decode function */
#define DSS_ERR_NO_GLOBALS          (-106) /* the Lua state has no DSS data */
#define DSS_ERR_UNKNOWN_LIB         (-107) /* getutilid for a libid not registered with the state */
#define DSS_ERR_ALREADY_REGISTERED  (-108) /* reg again for (state, libid): the existing utilid is returned */
#define DSS_ERR_QUEUE_FULL          (-109) /* bounded queue full, and the delivery may not wait: never queued (1v1) */
#define DSS_ERR_TIMED_OUT           (-110) /* deliver_ex with ret: queued, no answer in time; decode or ret got L == NULL (1v1) */
#define DSS_ERR_WOULD_DEADLOCK      (-111) /* a deliver that would wait, from a hook or the Lua thread: never queued (1v1) */

/* ---- callbacks a utility supplies --------------------------------------------- */

/*
 * decode: Lua thread, during poll(). Push a Lua function and its arguments; return how
 * many values were pushed (0: nothing for Lua, the delivery ends here and a blocked
 * deliverer is released). L == NULL: the delivery is cancelled; release pData's
 * resources and return 0.
 */
typedef int (*dss_decode_fn)(lua_State *L, void *pData, void *utilid);

/*
 * return: Lua thread, when Lua calls the waitingthread_callback (its arguments are the
 * whole stack, index 1 to lua_gettop) or when that callback is collected uncalled
 * (garbage = 1, empty stack). Store the answer in pData; return how many values left on
 * the top of the stack go back to Lua. After it returns the blocked deliverer is
 * released. L == NULL: the delivery is cancelled; record that in pData, return 0.
 */
typedef int (*dss_return_fn)(lua_State *L, void *pData, void *utilid, int garbage);

/*
 * cancel: DSS stops for the state this utilid belongs to. Stop delivering and call
 * unreg(utilid). Any thread; never touches a Lua state.
 */
typedef void (*dss_cancel_fn)(void *utilid);

/* ---- the API struct ----------------------------------------------------------- */

/* reg: Lua thread. Registers (L, libid); returns the utilid, or NULL with *errcode set.
   Again for the same pair: the existing utilid and DSS_ERR_ALREADY_REGISTERED. */
typedef void *(*dss_reg_fn)(lua_State *L, void *libid, dss_cancel_fn cancel, int *errcode);
/* getutilid: Lua thread. The utilid of (L, libid), or NULL with DSS_ERR_UNKNOWN_LIB. */
typedef void *(*dss_getutilid_fn)(lua_State *L, void *libid, int *errcode);
/* deliver: any thread. ret == NULL: queues and returns at once. ret != NULL: blocks until
   decode returned 0, ret ran, or the delivery was cancelled. Returns the status of the
   hand-over: DSS_SUCCESS or the DSS_ERR_UDP_SEND_FAILED warning when queued (pData is
   now DSS's until decode/ret sees it), an error code when refused (pData is still yours).
   A bounded queue that is full (darksidesync.setlimit): overflow "block" waits for room
   without bound, "fail" refuses with DSS_ERR_QUEUE_FULL. A deliver that would wait, from
   inside a decode or return hook or on the state's Lua thread, is refused with
   DSS_ERR_WOULD_DEADLOCK: the thread that would be blocked is the one that must answer. */
typedef int (*dss_deliver_fn)(void *utilid, dss_decode_fn decode, dss_return_fn ret, void *pData);
/* unreg: any thread. Cancels every outstanding delivery of the utility (decode/ret with
   L == NULL, in delivery order) before it returns DSS_SUCCESS. */
typedef int (*dss_unreg_fn)(void *utilid);

/* Five pointer-sized fields, in this order: the binary contract of API 1v0.
   errcode pointers may be NULL. */
typedef struct dss_api_1v0 {
    const char       *version;   /* "DSS API 1v0" */
    dss_reg_fn        reg;
    dss_getutilid_fn  getutilid;
    dss_deliver_fn    deliver;
    dss_unreg_fn      unreg;
} dss_api_1v0;

/* deliver_ex (1v1): any thread. deliver with a bound on waiting; timeout_ms decides the
   wait for room whatever the state's overflow policy:
     timeout_ms < 0 : no bound (as deliver with overflow "block");
     timeout_ms == 0: never wait for room (a full queue: DSS_ERR_QUEUE_FULL at once);
                      with ret, the answer is then awaited without bound, as deliver;
     timeout_ms > 0 : at most that long in total from entry, for room and then for the
                      answer (a hook of this utility running when the time runs out is
                      waited for, so it may return late by that hook's duration).
   Returns DSS_SUCCESS / DSS_ERR_UDP_SEND_FAILED (handed over; with ret, completed or
   cancelled as for deliver); DSS_ERR_QUEUE_FULL (never queued, also when the time ran out
   waiting for room); DSS_ERR_TIMED_OUT (only with ret: queued, no answer in time; before
   returning, DSS called decode(NULL, ...) if Lua never got the item, or ret(NULL, ...) if
   Lua holds its waitingthread_callback, whose later call does nothing: exactly once, on
   this thread, never concurrently with another hook of the utility);
   DSS_ERR_WOULD_DEADLOCK; or deliver's refusals. A refusal leaves pData yours. */
typedef int (*dss_deliver_ex_fn)(void *utilid, dss_decode_fn decode, dss_return_fn ret,
                                 void *pData, int timeout_ms);
/* queuesize (1v1): any thread. Deliveries queued in the utility's Lua state (decoded ones
   waiting for their answer are not counted), or a negative code (DSS_ERR_INVALID_UTILID,
   DSS_ERR_NOT_STARTED). */
typedef int (*dss_queuesize_fn)(void *utilid);

/* API 1v1: the 1v0 struct, same members and functions in the same order, then two more.
   A pointer to it may be used as a pointer to a dss_api_1v0. */
typedef struct dss_api_1v1 {
    const char        *version;     /* "DSS API 1v1" */
    dss_reg_fn         reg;         /* the 1v0 functions, same order */
    dss_getutilid_fn   getutilid;
    dss_deliver_fn     deliver;
    dss_unreg_fn       unreg;
    dss_deliver_ex_fn  deliver_ex;
    dss_queuesize_fn   queuesize;
} dss_api_1v1;

/* True for a delivery DSS accepted (SUCCESS, or queued with a failed notification). */
#define dss_delivered(code) ((code) == DSS_SUCCESS || (code) == DSS_ERR_UDP_SEND_FAILED)

#ifndef DSS_NO_AUX
/* =================================================================================
 * Optional helper ("aux"): find the API in a Lua state's registry and register.
 * Define DSS_NO_AUX before including this header to leave it out.
 *
 * The helper keeps its only state in a dss_lib that the library defines ONCE
 * (DSS_LIB_DEFINE in one .c file, DSS_LIB_DECLARE in the others). A static variable
 * in this header would give every .c file its own API pointer and libid: a library
 * built from two files would then register twice or deliver through a NULL pointer.
 * The address of the dss_lib is the libid, so it is unique per library and process.
 * ================================================================================= */

#include <string.h>
#include <lauxlib.h>

typedef struct dss_lib {
    const char        *name;   /* for error messages */
    const dss_api_1v0 *api;    /* written on the Lua thread by dss_register, read by any thread */
    const dss_api_1v1 *api11;  /* the same DSS's 1v1 struct, NULL when it has none (a 1.0 DSS) */
} dss_lib;

/* Hidden: two utilities that happen to pick the same variable name still get two libids. */
#if defined(__GNUC__) || defined(__clang__)
#  define DSS_LIB_VISIBILITY __attribute__((visibility("hidden")))
#else
#  define DSS_LIB_VISIBILITY
#endif

#define DSS_LIB_DEFINE(var, libname) DSS_LIB_VISIBILITY dss_lib var = { (libname), NULL, NULL }
#define DSS_LIB_DECLARE(var)         extern DSS_LIB_VISIBILITY dss_lib var
#define DSS_LIBID(lib)               ((void *)(lib))

/* The API pointer is published once and never changes afterwards; the release/acquire
   pair makes a producer thread see the struct the Lua thread found. */
#if defined(__GNUC__) || defined(__clang__)
#  define DSS_AUX_STORE_(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#  define DSS_AUX_LOAD_(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#else
#  define DSS_AUX_STORE_(p, v) (*(p) = (v))
#  define DSS_AUX_LOAD_(p)     (*(p))
#endif

/* A short name for a status code ("SUCCESS", "INVALID_UTILID", ...). */
static inline const char *dss_statusname(int code)
{
    switch (code) {
    case DSS_SUCCESS:                return "SUCCESS";
    case DSS_ERR_UDP_SEND_FAILED:    return "UDP_SEND_FAILED";
    case DSS_ERR_INVALID_UTILID:     return "INVALID_UTILID";
    case DSS_ERR_NOT_STARTED:        return "NOT_STARTED";
    case DSS_ERR_NO_CANCEL_PROVIDED: return "NO_CANCEL_PROVIDED";
    case DSS_ERR_OUT_OF_MEMORY:      return "OUT_OF_MEMORY";
    case DSS_ERR_NO_DECODE_PROVIDED: return "NO_DECODE_PROVIDED";
    case DSS_ERR_NO_GLOBALS:         return "NO_GLOBALS";
    case DSS_ERR_UNKNOWN_LIB:        return "UNKNOWN_LIB";
    case DSS_ERR_ALREADY_REGISTERED: return "ALREADY_REGISTERED";
    case DSS_ERR_QUEUE_FULL:         return "QUEUE_FULL";
    case DSS_ERR_TIMED_OUT:          return "TIMED_OUT";
    case DSS_ERR_WOULD_DEADLOCK:     return "WOULD_DEADLOCK";
    default:                         return "UNKNOWN_STATUS";
    }
}

/* Lua thread. The API struct DSS published in L's registry, or NULL with *errcode:
   DSS_ERR_NOT_STARTED when DSS was stopped for L (its registry table stays, without the
   API), DSS_ERR_NO_GLOBALS when darksidesync was never loaded or the API is not version
   1v0. Never raises; leaves the stack as it found it. */
static inline const dss_api_1v0 *dss_findapi(lua_State *L, int *errcode)
{
    const dss_api_1v0 *api = NULL;
    int code = DSS_ERR_NO_GLOBALS;
    if (lua_getfield(L, LUA_REGISTRYINDEX, DSS_REGISTRY_KEY) == LUA_TTABLE) {
        int type = lua_getfield(L, -1, DSS_API_1v0_KEY);
        if (type == LUA_TLIGHTUSERDATA)
            api = (const dss_api_1v0 *)lua_touserdata(L, -1);
        else if (type == LUA_TNIL)
            code = DSS_ERR_NOT_STARTED;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (api != NULL && (api->version == NULL || strcmp(api->version, DSS_API_1v0_KEY) != 0))
        api = NULL;
    if (errcode != NULL)
        *errcode = api != NULL ? DSS_SUCCESS : code;
    return api;
}

/* Lua thread. The API 1v1 struct DSS published in L's registry, or NULL with *errcode:
   as dss_findapi, and DSS_ERR_NO_GLOBALS also for a DSS that offers only 1v0 (use
   dss_findapi then). Never raises; leaves the stack as it found it. */
static inline const dss_api_1v1 *dss_findapi_1v1(lua_State *L, int *errcode)
{
    const dss_api_1v1 *api = NULL;
    int code = DSS_ERR_NO_GLOBALS;
    if (lua_getfield(L, LUA_REGISTRYINDEX, DSS_REGISTRY_KEY) == LUA_TTABLE) {
        int type = lua_getfield(L, -1, DSS_API_1v1_KEY);
        if (type == LUA_TLIGHTUSERDATA) {
            api = (const dss_api_1v1 *)lua_touserdata(L, -1);
        } else if (type == LUA_TNIL) {
            /* stopped, or a 1.0 DSS: the 1v0 field tells which */
            lua_pop(L, 1);
            if (lua_getfield(L, -1, DSS_API_1v0_KEY) == LUA_TNIL)
                code = DSS_ERR_NOT_STARTED;
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (api != NULL && (api->version == NULL || strcmp(api->version, DSS_API_1v1_KEY) != 0))
        api = NULL;
    if (errcode != NULL)
        *errcode = api != NULL ? DSS_SUCCESS : code;
    return api;
}

/* Lua thread. Registers the library with L's DSS. Returns the utilid (also for
   DSS_ERR_ALREADY_REGISTERED, then the existing one), NULL with *errcode otherwise.
   Keeps the 1v1 API too when DSS offers it (dss_deliver_ex, dss_queuesize use it). */
static inline void *dss_register(lua_State *L, dss_lib *lib, dss_cancel_fn cancel, int *errcode)
{
    const dss_api_1v0 *api = dss_findapi(L, errcode);
    if (api == NULL) {
        /* DSS stopped for L (or was never loaded): the API we used before can tell which
           (NOT_STARTED or NO_GLOBALS). */
        api = DSS_AUX_LOAD_(&lib->api);
        if (api == NULL)
            return NULL;
    } else {
        DSS_AUX_STORE_(&lib->api11, dss_findapi_1v1(L, NULL));
        DSS_AUX_STORE_(&lib->api, api);
    }
    return api->reg(L, DSS_LIBID(lib), cancel, errcode);
}

/* Lua thread. As dss_register, but a failure raises a Lua error naming the library
   and the code; an existing registration is returned as is. For luaopen_ functions. */
static inline void *dss_checkregister(lua_State *L, dss_lib *lib, dss_cancel_fn cancel)
{
    int code = DSS_SUCCESS;
    void *utilid = dss_register(L, lib, cancel, &code);
    if (utilid == NULL) {
        luaL_error(L, "%s: cannot register with DarkSideSync: %s (%d)%s", lib->name,
                   dss_statusname(code), code,
                   code == DSS_ERR_NO_GLOBALS ? "; require 'darksidesync' first" : "");
    }
    return utilid;
}

/* Lua thread. The utilid the library has in L, or NULL with *errcode. */
static inline void *dss_getutilid(lua_State *L, dss_lib *lib, int *errcode)
{
    const dss_api_1v0 *api = dss_findapi(L, errcode);
    if (api == NULL) {
        api = DSS_AUX_LOAD_(&lib->api); /* as in dss_register: let DSS say why */
        if (api == NULL)
            return NULL;
    }
    return api->getutilid(L, DSS_LIBID(lib), errcode);
}

/* Any thread. deliver() of the API the library registered with. */
static inline int dss_deliver(dss_lib *lib, void *utilid, dss_decode_fn decode,
                              dss_return_fn ret, void *pData)
{
    const dss_api_1v0 *api = DSS_AUX_LOAD_(&lib->api);
    if (api == NULL)
        return DSS_ERR_INVALID_UTILID; /* never registered: no utilid can be valid */
    return api->deliver(utilid, decode, ret, pData);
}

/* Any thread. deliver_ex() of the API the library registered with; with a DSS that offers
   only 1v0, deliver() (timeout_ms is then not honoured: the queue is unbounded and a
   blocking delivery waits without bound, so DSS_ERR_TIMED_OUT never comes). */
static inline int dss_deliver_ex(dss_lib *lib, void *utilid, dss_decode_fn decode,
                                 dss_return_fn ret, void *pData, int timeout_ms)
{
    const dss_api_1v1 *api11 = DSS_AUX_LOAD_(&lib->api11);
    if (api11 != NULL)
        return api11->deliver_ex(utilid, decode, ret, pData, timeout_ms);
    return dss_deliver(lib, utilid, decode, ret, pData);
}

/* Any thread. queuesize() of the API the library registered with: the deliveries queued
   in the utility's Lua state, or a negative code; DSS_ERR_NO_GLOBALS from a DSS that
   offers only 1v0 (it cannot tell). */
static inline int dss_queuesize(dss_lib *lib, void *utilid)
{
    const dss_api_1v1 *api11 = DSS_AUX_LOAD_(&lib->api11);
    if (api11 != NULL)
        return api11->queuesize(utilid);
    return DSS_AUX_LOAD_(&lib->api) == NULL ? DSS_ERR_INVALID_UTILID : DSS_ERR_NO_GLOBALS;
}

/* Any thread. unreg() of the API the library registered with. */
static inline int dss_unregister(dss_lib *lib, void *utilid)
{
    const dss_api_1v0 *api = DSS_AUX_LOAD_(&lib->api);
    if (api == NULL)
        return DSS_ERR_INVALID_UTILID;
    return api->unreg(utilid);
}

#endif /* DSS_NO_AUX */

#ifdef __cplusplus
}
#endif

#endif /* DARKSIDESYNC_API_H */
