#include "streamhandler.h"

#include "libp2pstream.h"

void StreamHandler::remoteClosed(Libp2pStream &stream)
{
    stream.closeWrite();
}
