using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;

namespace DarkSideSync.Native;

/// <summary>
/// The module's only Akka serializer, under both of the reference config's aliases ("bytes" and
/// "json", see ProcessActorSystem): Akka's ByteArraySerializer, with its identifier fixed and an
/// error that says why for anything but a byte array.
/// </summary>
/// <remarks>
/// Nothing in this process is ever serialized (no remoting, no persistence; DSS's messages stay
/// in memory). Akka still creates every configured serializer when the ActorSystem starts, and
/// its default one for <c>System.Object</c>, NewtonSoftJsonSerializer, is what brings
/// Newtonsoft.Json, and through it System.Xml, System.Data, Microsoft.CSharp, System.Net.Http
/// and most of System.Security.Cryptography, into the NativeAOT image: 8.6 MB of the .so's
/// 14.2, and 6.2 MB of idle RSS (4.1 MB of resident code pages, 2.2 MB of data the runtime
/// rehydrates at load; MEMORY-REPORT.md). The identifier is overridden because Akka's own
/// lookup of it (SerializerIdentifierHelper) resolves every type named in
/// akka.actor.serialization-identifiers, the JSON serializer's included.
/// </remarks>
internal sealed class BytesOnlySerializer : ByteArraySerializer
{
    public BytesOnlySerializer(ExtendedActorSystem system)
        : base(system)
    {
    }

    /// <summary>Akka passes akka.actor.serialization-settings.ALIAS when there is one (there is for "json").</summary>
    public BytesOnlySerializer(ExtendedActorSystem system, Config settings)
        : this(system)
    {
        _ = settings; // nothing to set
    }

    /// <summary>ByteArraySerializer's identifier in Akka's reference config.</summary>
    public override int Identifier => 4;

    public override byte[] ToBinary(object obj) =>
        obj is null or byte[]
            ? base.ToBinary(obj)
            : throw new NotSupportedException(
                $"darksidesync.so cannot serialize {obj.GetType()}: its Akka.NET has no JSON serializer (nothing in the module leaves the process).");
}
