#include "sseframe.h"

namespace SseFrame {

QByteArray data(QByteArrayView jsonLine)
{
    Q_ASSERT(!jsonLine.contains('\n') && !jsonLine.contains('\r'));
    QByteArray frame;
    frame.reserve(jsonLine.size() + 8);
    frame.append("data: ").append(jsonLine).append("\n\n");
    return frame;
}

QByteArray comment(QByteArrayView text)
{
    return QByteArray(": ").append(text).append("\n\n");
}

} // namespace SseFrame
