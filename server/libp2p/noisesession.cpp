#include "noisesession.h"

#include "protobuf.h"

#include <QtEndian>

namespace {

constexpr char protocolName[] = "Noise_XX_25519_ChaChaPoly_SHA256";
constexpr char signaturePrefix[] = "noise-libp2p-static-key:";
constexpr quint64 maxNonce = ~quint64(0); // reserved by the Noise spec: never used

// The NoiseHandshakePayload fields.
constexpr int identityKeyField = 1;
constexpr int identitySignatureField = 2;

} // namespace

NoiseSession::NoiseSession(Role role, const IdentityKey &identity,
                           std::optional<PeerId> expectedPeer)
    : m_role(role), m_identity(identity), m_expectedPeer(std::move(expectedPeer))
{
    // A name of exactly HASHLEN bytes is the initial hash as it is; the prologue is empty.
    m_hash = QByteArray(protocolName);
    m_chainingKey = m_hash;
    mixHash(QByteArray());
    m_static = NoiseCrypto::generateX25519();
    if (m_role == Role::Initiator)
        writeFirstMessage();
}

QByteArray NoiseSession::handshakePayload(const IdentityKey &identity, const QByteArray &staticKey)
{
    ProtobufWriter payload;
    payload.addBytes(identityKeyField, identity.publicKeyProtobuf());
    payload.addBytes(identitySignatureField, identity.sign(signaturePrefix + staticKey));
    return payload.bytes();
}

bool NoiseSession::CipherState::encrypt(const QByteArray &ad, const QByteArray &plaintext,
                                        QByteArray *out)
{
    if (key.isEmpty()) {
        *out = plaintext;
        return true;
    }
    if (nonce == maxNonce)
        return false;
    *out = NoiseCrypto::encrypt(key, nonce++, ad, plaintext);
    return true;
}

bool NoiseSession::CipherState::decrypt(const QByteArray &ad, const QByteArray &ciphertext,
                                        QByteArray *out)
{
    if (key.isEmpty()) {
        *out = ciphertext;
        return true;
    }
    if (nonce == maxNonce)
        return false;
    auto plaintext = NoiseCrypto::decrypt(key, nonce, ad, ciphertext);
    if (!plaintext)
        return false;
    ++nonce; // only after success, as the spec says
    *out = *plaintext;
    return true;
}

void NoiseSession::mixHash(const QByteArray &data)
{
    m_hash = NoiseCrypto::sha256(m_hash + data);
}

void NoiseSession::mixKey(const QByteArray &inputKeyMaterial)
{
    // HKDF with two outputs: the new chaining key and the cipher key.
    const QByteArray temporaryKey = NoiseCrypto::hmacSha256(m_chainingKey, inputKeyMaterial);
    m_chainingKey = NoiseCrypto::hmacSha256(temporaryKey, QByteArray(1, '\x01'));
    m_handshakeCipher.key = NoiseCrypto::hmacSha256(temporaryKey, m_chainingKey + '\x02');
    m_handshakeCipher.nonce = 0;
}

bool NoiseSession::mixDh(const QByteArray &privateKey, const QByteArray &publicKey)
{
    const auto secret = NoiseCrypto::x25519(privateKey, publicKey);
    if (!secret)
        return false;
    mixKey(*secret);
    return true;
}

QByteArray NoiseSession::encryptAndHash(const QByteArray &plaintext)
{
    QByteArray ciphertext;
    m_handshakeCipher.encrypt(m_hash, plaintext, &ciphertext); // nonces are few here
    mixHash(ciphertext);
    return ciphertext;
}

std::optional<QByteArray> NoiseSession::decryptAndHash(const QByteArray &ciphertext)
{
    QByteArray plaintext;
    if (!m_handshakeCipher.decrypt(m_hash, ciphertext, &plaintext))
        return std::nullopt;
    mixHash(ciphertext);
    return plaintext;
}

void NoiseSession::split()
{
    const QByteArray temporaryKey = NoiseCrypto::hmacSha256(m_chainingKey, QByteArray());
    const QByteArray first = NoiseCrypto::hmacSha256(temporaryKey, QByteArray(1, '\x01'));
    const QByteArray second = NoiseCrypto::hmacSha256(temporaryKey, first + '\x02');
    // The first key protects what the initiator sends.
    m_sendCipher.key = m_role == Role::Initiator ? first : second;
    m_receiveCipher.key = m_role == Role::Initiator ? second : first;
    m_state = State::Established;
    // The handshake secrets are no longer needed.
    m_ephemeral = {};
    m_static = {};
    m_chainingKey.clear();
    m_handshakeCipher = {};
}

void NoiseSession::fail(const QByteArray &why)
{
    if (m_state == State::Failed)
        return;
    m_state = State::Failed;
    m_error = why;
    m_input.clear();
}

void NoiseSession::sendFrame(const QByteArray &message)
{
    char length[2];
    qToBigEndian(quint16(message.size()), length);
    m_output.append(length, 2);
    m_output.append(message);
}

// -> e
void NoiseSession::writeFirstMessage()
{
    m_ephemeral = NoiseCrypto::generateX25519();
    mixHash(m_ephemeral.publicKey);
    sendFrame(m_ephemeral.publicKey + encryptAndHash(QByteArray()));
    m_messagesDone = 1;
}

// <- e, ee, s, es
void NoiseSession::writeSecondMessage()
{
    m_ephemeral = NoiseCrypto::generateX25519();
    mixHash(m_ephemeral.publicKey);
    QByteArray message = m_ephemeral.publicKey;
    if (!mixDh(m_ephemeral.privateKey, m_remoteEphemeral))
        return fail("bad ephemeral key");
    message += encryptAndHash(m_static.publicKey);
    if (!mixDh(m_static.privateKey, m_remoteEphemeral))
        return fail("bad ephemeral key");
    message += encryptAndHash(localPayload(m_static.publicKey));
    sendFrame(message);
    m_messagesDone = 2;
}

// -> s, se
void NoiseSession::writeThirdMessage()
{
    QByteArray message = encryptAndHash(m_static.publicKey);
    if (!mixDh(m_static.privateKey, m_remoteEphemeral))
        return fail("bad ephemeral key");
    message += encryptAndHash(localPayload(m_static.publicKey));
    sendFrame(message);
    m_messagesDone = 3;
    split();
}

bool NoiseSession::readSecondMessage(const QByteArray &message)
{
    constexpr int encryptedKeyBytes = NoiseCrypto::keyBytes + NoiseCrypto::tagBytes;
    if (message.size() < NoiseCrypto::keyBytes + encryptedKeyBytes + NoiseCrypto::tagBytes)
        return false;
    m_remoteEphemeral = message.left(NoiseCrypto::keyBytes);
    mixHash(m_remoteEphemeral);
    if (!mixDh(m_ephemeral.privateKey, m_remoteEphemeral))
        return false;
    const auto remoteStatic = decryptAndHash(message.mid(NoiseCrypto::keyBytes, encryptedKeyBytes));
    if (!remoteStatic)
        return false;
    m_remoteStatic = *remoteStatic;
    if (!mixDh(m_ephemeral.privateKey, m_remoteStatic))
        return false;
    const auto payload = decryptAndHash(message.mid(NoiseCrypto::keyBytes + encryptedKeyBytes));
    return payload && checkPayload(*payload);
}

bool NoiseSession::readThirdMessage(const QByteArray &message)
{
    constexpr int encryptedKeyBytes = NoiseCrypto::keyBytes + NoiseCrypto::tagBytes;
    if (message.size() < encryptedKeyBytes + NoiseCrypto::tagBytes)
        return false;
    const auto remoteStatic = decryptAndHash(message.left(encryptedKeyBytes));
    if (!remoteStatic)
        return false;
    m_remoteStatic = *remoteStatic;
    if (!mixDh(m_ephemeral.privateKey, m_remoteStatic))
        return false;
    const auto payload = decryptAndHash(message.mid(encryptedKeyBytes));
    return payload && checkPayload(*payload);
}

bool NoiseSession::checkPayload(const QByteArray &payload)
{
    ProtobufReader reader(payload);
    QByteArray identityKey;
    QByteArray signature;
    // Early data (3) and extensions (4) are not used by us; they are skipped.
    while (const auto field = reader.next()) {
        if (field->type != ProtobufReader::LengthDelimitedType)
            continue;
        if (field->number == identityKeyField)
            identityKey = field->bytes;
        else if (field->number == identitySignatureField)
            signature = field->bytes;
    }
    if (reader.failed() || identityKey.isEmpty()) {
        fail("malformed handshake payload");
        return false;
    }
    if (!IdentityKey::verify(identityKey, signaturePrefix + m_remoteStatic, signature)) {
        fail("the peer's identity signature does not match its Noise key");
        return false;
    }
    const PeerId peer = PeerId::fromPublicKey(identityKey);
    if (m_expectedPeer && *m_expectedPeer != peer) {
        fail("the peer is not the one we dialled");
        return false;
    }
    m_remotePeer = peer;
    m_remotePublicKey = identityKey;
    return true;
}

void NoiseSession::handleMessage(const QByteArray &message)
{
    if (m_state == State::Established) {
        QByteArray plaintext;
        if (message.size() < NoiseCrypto::tagBytes ||
            !m_receiveCipher.decrypt(QByteArray(), message, &plaintext))
            return fail("a message that does not decrypt");
        m_plaintext.append(plaintext);
        return;
    }
    if (m_role == Role::Responder && m_messagesDone == 0) {
        // -> e, with a payload we ignore (it is empty in libp2p).
        if (message.size() < NoiseCrypto::keyBytes)
            return fail("a first handshake message that is too short");
        m_remoteEphemeral = message.left(NoiseCrypto::keyBytes);
        mixHash(m_remoteEphemeral);
        decryptAndHash(message.mid(NoiseCrypto::keyBytes));
        m_messagesDone = 1;
        writeSecondMessage();
    } else if (m_role == Role::Initiator && m_messagesDone == 1) {
        if (!readSecondMessage(message))
            return fail(m_error.isEmpty() ? "a second handshake message that does not verify"
                                          : m_error);
        m_messagesDone = 2;
        writeThirdMessage();
    } else if (m_role == Role::Responder && m_messagesDone == 2) {
        if (!readThirdMessage(message))
            return fail(m_error.isEmpty() ? "a third handshake message that does not verify"
                                          : m_error);
        m_messagesDone = 3;
        split();
    } else {
        fail("a handshake message out of turn");
    }
}

void NoiseSession::feed(const QByteArray &bytes)
{
    if (m_state == State::Failed)
        return;
    m_input.append(bytes);
    qsizetype offset = 0;
    while (m_state != State::Failed && m_input.size() - offset >= 2) {
        const quint16 length = qFromBigEndian<quint16>(m_input.constData() + offset);
        if (m_input.size() - offset - 2 < length)
            break;
        handleMessage(m_input.mid(offset + 2, length));
        offset += 2 + length;
    }
    if (m_state != State::Failed)
        m_input.remove(0, offset);
}

void NoiseSession::send(const QByteArray &plaintext)
{
    if (m_state != State::Established)
        return;
    for (qsizetype offset = 0; offset < plaintext.size(); offset += maxPlaintextBytes) {
        QByteArray ciphertext;
        if (!m_sendCipher.encrypt(QByteArray(), plaintext.mid(offset, maxPlaintextBytes),
                                  &ciphertext))
            return fail("the nonces are used up");
        sendFrame(ciphertext);
    }
}
