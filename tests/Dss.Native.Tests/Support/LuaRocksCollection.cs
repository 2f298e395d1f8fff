namespace DarkSideSync.Native.Tests.Support;

/// <summary>
/// Specs of the rockspec: one <c>luarocks make</c> for all of them, run alone, after the
/// parallel collections (a NativeAOT publish would take the cores from timing-sensitive specs).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LuaRocksCollection : ICollectionFixture<RockTreeFixture>
{
    public const string Name = "luarocks";
}
