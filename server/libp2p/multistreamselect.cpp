#include "multistreamselect.h"

#include "varint.h"

MultistreamSelect MultistreamSelect::listener(Supports supports)
{
    MultistreamSelect select;
    select.m_supports = std::move(supports);
    select.m_output = message(header);
    return select;
}

MultistreamSelect MultistreamSelect::dialer(std::vector<QByteArray> proposals)
{
    MultistreamSelect select;
    select.m_isDialer = true;
    select.m_proposals = std::move(proposals);
    select.m_output = message(header);
    select.propose();
    return select;
}

QByteArray MultistreamSelect::message(const QByteArray &line)
{
    QByteArray bytes = Varint::encode(quint64(line.size() + 1));
    bytes.append(line);
    bytes.append('\n');
    return bytes;
}

void MultistreamSelect::propose()
{
    if (m_nextProposal >= m_proposals.size())
        return fail("the listener supports none of our protocols");
    m_output.append(message(m_proposals[m_nextProposal]));
}

void MultistreamSelect::fail(const QByteArray &why)
{
    m_state = State::Failed;
    m_error = why;
}

void MultistreamSelect::feed(const QByteArray &bytes)
{
    if (m_state == State::Agreed) {
        m_input.append(bytes); // the protocol's, kept for takeRemainder()
        return;
    }
    if (m_state == State::Failed)
        return;
    m_input.append(bytes);
    while (m_state == State::Negotiating) {
        const Varint::Decoded length = Varint::decode(m_input);
        if (length.status == Varint::Status::Malformed ||
            (length.status == Varint::Status::Ok &&
             (length.value > maxMessageBytes || !length.minimal)))
            return fail("malformed message length");
        if (length.status == Varint::Status::Incomplete ||
            quint64(m_input.size() - length.length) < length.value)
            return;
        const QByteArray line = m_input.mid(length.length, qsizetype(length.value));
        m_input.remove(0, length.length + qsizetype(length.value));
        if (!line.endsWith('\n'))
            return fail("a message without its newline");
        handle(line.chopped(1));
    }
}

void MultistreamSelect::handle(const QByteArray &line)
{
    if (!m_headerSeen) {
        if (line != header)
            return fail("not multistream-select 1.0");
        m_headerSeen = true;
        return;
    }
    if (m_isDialer) {
        const QByteArray &proposal = m_proposals[m_nextProposal];
        if (line == proposal) {
            m_state = State::Agreed;
            m_protocol = proposal;
        } else if (line == "na") {
            ++m_nextProposal;
            propose();
        } else {
            fail("an answer that is neither our proposal nor na");
        }
        return;
    }
    if (line != "ls" && !line.isEmpty() && m_supports(line)) {
        m_output.append(message(line));
        m_state = State::Agreed;
        m_protocol = line;
        return;
    }
    // "ls" is optional in the spec; we answer it as an unknown protocol.
    if (++m_refused > maxProposals)
        return fail("too many proposals");
    m_output.append(message("na"));
}

QByteArray MultistreamSelect::takeOutput()
{
    return std::exchange(m_output, QByteArray());
}

QByteArray MultistreamSelect::takeRemainder()
{
    return std::exchange(m_input, QByteArray());
}
