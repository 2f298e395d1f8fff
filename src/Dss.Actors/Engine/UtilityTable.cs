using System.Collections.Concurrent;

namespace DarkSideSync.Engine;

/// <summary>
/// Process-wide map from utilid to registration. A C utility's utilid is a number, never a
/// pointer, so a bogus or stale utilid is looked up and refused instead of dereferenced.
/// Ids are never reused: after stop and start, old utilids stay invalid.
/// </summary>
internal static class UtilityTable
{
    private static readonly ConcurrentDictionary<nint, Registration> Registrations = new();
    private static long _lastId;

    public static nint NextId() => (nint)Interlocked.Increment(ref _lastId);

    public static void Add(Registration registration) => Registrations[registration.UtilId] = registration;

    public static void Remove(Registration registration) => Registrations.TryRemove(registration.UtilId, out _);

    public static Registration? Find(nint utilId) => Registrations.TryGetValue(utilId, out var r) ? r : null;
}
