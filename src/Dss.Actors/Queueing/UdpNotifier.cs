using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using DarkSideSync.LuaSide;

namespace DarkSideSync.Queueing;

/// <summary>
/// Wakes the Lua side with a UDP datagram to 127.0.0.1:port after a delivery; the payload is a
/// space and the queue size in decimal (<c>" 3"</c>).
/// </summary>
/// <remarks>
/// Any producer thread sends, concurrently: one unconnected socket, and a <see cref="SocketAddress"/>
/// swapped whole when Lua changes the port, so a send never sees half a change.
/// In coalesced mode at most one datagram is outstanding: a producer sends only if it takes
/// the "armed" token, and the Lua thread re-arms when it finds the queue empty.
/// </remarks>
internal sealed class UdpNotifier : IDisposable
{
    private readonly bool _coalesced;
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private SocketAddress? _target; // null: notifications off
    private int _port;
    private int _armed = 1;         // coalesced mode: 1 when the next delivery may send a datagram

    public UdpNotifier(bool coalesced) => _coalesced = coalesced;

    public int Port => Volatile.Read(ref _port);

    public bool IsCoalesced => _coalesced;

    /// <summary>Lua thread. 0 turns notifications off.</summary>
    public void SetPort(int port)
    {
        Volatile.Write(ref _target, port == 0 ? null : new IPEndPoint(IPAddress.Loopback, port).Serialize());
        Volatile.Write(ref _port, port);
        Volatile.Write(ref _armed, 1);
    }

    /// <summary>Any producer thread, right after its post. Never throws.</summary>
    public DssStatus AfterDelivery(Mailbox mailbox)
    {
        var target = Volatile.Read(ref _target);
        if (target is null || (_coalesced && Interlocked.Exchange(ref _armed, 0) == 0))
        {
            return DssStatus.Success;
        }
        Span<byte> payload = stackalloc byte[12];
        payload[0] = (byte)' ';
        Utf8Formatter.TryFormat(mailbox.Count, payload[1..], out int digits);
        try
        {
            _socket.SendTo(payload[..(digits + 1)], SocketFlags.None, target);
            return DssStatus.Success;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return DssStatus.UdpSendFailed;
        }
    }

    /// <summary>Lua thread, coalesced mode: the queue looked empty, so the next delivery must wake Lua again.</summary>
    public void Rearm() => Interlocked.Exchange(ref _armed, 1);

    public void Dispose() => _socket.Dispose();
}
