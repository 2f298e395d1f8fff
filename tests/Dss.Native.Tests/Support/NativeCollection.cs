namespace DarkSideSync.Native.Tests.Support;

/// <summary>
/// Specs that load the published darksidesync.so: one publish for all of them, and they run
/// one after another (each starts its own lua5.4 processes; UDP ports stay predictable).
/// </summary>
[CollectionDefinition(Name)]
public sealed class NativeCollection : ICollectionFixture<NativeModuleFixture>
{
    public const string Name = "darksidesync.so";
}
