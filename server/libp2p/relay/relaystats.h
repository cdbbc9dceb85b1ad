#pragma once

#include <QtGlobal>

// What the circuit relay did (RelayService::stats()), as /metrics shows it.
struct RelayStats
{
    int reservations = 0; // held now
    int circuits = 0;     // open or being opened now
    quint64 reservationsGranted = 0;
    quint64 reservationsRefused = 0;
    quint64 circuitsOpened = 0;  // the target accepted
    quint64 circuitsRefused = 0; // a refusal to the source, for whatever reason
    quint64 circuitsLimited = 0; // reset by their data or duration limit
    quint64 bytesRelayed = 0;    // handed on, both directions
};
