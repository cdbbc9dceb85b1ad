#pragma once

#include <QObject>

#include <memory>

// The daemon as a Windows service: when the Service Control Manager started the process, this
// connects to it, reports "running" once the server listens, turns the SCM's stop and shutdown
// controls into stopRequested(), and reports "stopped" when destroyed. Started any other way (a
// console, a test) it does nothing. Built on Windows only; elsewhere systemd does this job.
class WindowsService : public QObject
{
    Q_OBJECT

public:
    explicit WindowsService(QObject *parent = nullptr);
    ~WindowsService() override;

    bool isActive() const;
    void ready();
    void stopping();
    void failed(int exitCode); // "stopped" then carries it, so that the SCM's recovery applies

    struct Connection; // to the SCM, whose callbacks are plain functions

Q_SIGNALS:
    void stopRequested();

private:
    std::unique_ptr<Connection> m_connection;
};
