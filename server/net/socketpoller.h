#pragma once

#include "socketio.h"

#include <chrono>
#include <memory>
#include <vector>

// Waits until sockets can be read or written, for a thread that owns many of them (the event
// streams' writers). Linux has epoll, whose cost does not grow with the number of idle sockets;
// every other system gets poll() (WSAPoll on Windows), which looks at every socket per wake-up.
// All calls but wake() come from the owning thread.
class SocketPoller
{
public:
    struct Ready
    {
        void *tag = nullptr;
        bool input = false; // readable, closed by the peer, or failed: read to find out which
        bool output = false;
    };

    // Calls::Best is epoll on Linux, poll() elsewhere; Calls::Portable is poll() everywhere.
    static std::unique_ptr<SocketPoller> create(SocketIo::Calls calls = SocketIo::Calls::Best);
    virtual ~SocketPoller() = default;

    // Watches `socket` for input; `tag` comes back in Ready.
    virtual void add(SocketIo::Handle socket, void *tag) = 0;
    // Also watches for room to write (while something waits to be sent), or stops doing so.
    virtual void watchOutput(SocketIo::Handle socket, void *tag, bool on) = 0;
    virtual void remove(SocketIo::Handle socket) = 0;

    // Waits until a socket is ready, wake() is called, or `timeout` passes. The list is valid
    // until the next call.
    virtual const std::vector<Ready> &wait(std::chrono::milliseconds timeout) = 0;

    // Ends the current or next wait() early. Thread-safe.
    virtual void wake() = 0;
};
