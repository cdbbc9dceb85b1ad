#pragma once

#include <QObject>

class QSocketNotifier;

// Turns SIGTERM and SIGINT into a Qt signal. The handler only writes the signal number to a
// socket pair; the event loop reads it (Qt's "Calling Qt Functions From Unix Signal Handlers").
// On Windows, console events (Ctrl+C: SIGINT; Ctrl+Break, closing, logoff, shutdown: SIGTERM)
// take their place.
class SignalWatcher : public QObject
{
    Q_OBJECT

public:
    explicit SignalWatcher(QObject *parent = nullptr);
    ~SignalWatcher() override;

Q_SIGNALS:
    void stopRequested(int signalNumber);

private:
#ifndef Q_OS_WIN
    static void handle(int signalNumber);
    void readSignal();

    QSocketNotifier *m_notifier = nullptr;
#endif
};
