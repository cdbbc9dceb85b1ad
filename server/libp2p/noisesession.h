#pragma once

#include "identitykey.h"
#include "noisecrypto.h"
#include "peerid.h"

#include <QByteArray>

#include <optional>

// libp2p's /noise secure channel (Noise_XX_25519_ChaChaPoly_SHA256 with the signed libp2p
// handshake payload, messages framed by a 2-byte big-endian length) over bytes, for the
// initiator or the responder. Feed it what arrives, send takeOutput(); once established,
// send() encrypts and takePlaintext() gives what the peer sent.
class NoiseSession
{
public:
    static constexpr char protocolId[] = "/noise";
    static constexpr int maxMessageBytes = 65535;
    static constexpr int maxPlaintextBytes = maxMessageBytes - NoiseCrypto::tagBytes;

    enum class Role
    {
        Initiator,
        Responder
    };
    enum class State
    {
        Handshaking,
        Established,
        Failed
    };

    // `expectedPeer`: the initiator refuses a responder whose identity is another.
    NoiseSession(Role role, const IdentityKey &identity,
                 std::optional<PeerId> expectedPeer = std::nullopt);
    virtual ~NoiseSession() = default;
    NoiseSession(NoiseSession &&) = default;

    void feed(const QByteArray &bytes);
    void send(const QByteArray &plaintext);
    QByteArray takeOutput() { return std::exchange(m_output, QByteArray()); }
    QByteArray takePlaintext() { return std::exchange(m_plaintext, QByteArray()); }

    State state() const { return m_state; }
    QByteArray error() const { return m_error; }
    std::optional<PeerId> remotePeer() const { return m_remotePeer; }
    QByteArray remotePublicKey() const { return m_remotePublicKey; } // a PublicKey protobuf

    // The libp2p payload: our identity key and its signature of our static Noise key.
    static QByteArray handshakePayload(const IdentityKey &identity, const QByteArray &staticKey);

protected:
    // What we send in our second or third message; tests override it to forge a payload.
    virtual QByteArray localPayload(const QByteArray &staticKey) const
    {
        return handshakePayload(m_identity, staticKey);
    }

private:
    struct CipherState
    {
        QByteArray key;
        quint64 nonce = 0;
        bool encrypt(const QByteArray &ad, const QByteArray &plaintext, QByteArray *out);
        bool decrypt(const QByteArray &ad, const QByteArray &ciphertext, QByteArray *out);
    };

    void mixHash(const QByteArray &data);
    void mixKey(const QByteArray &inputKeyMaterial);
    bool mixDh(const QByteArray &privateKey, const QByteArray &publicKey);
    QByteArray encryptAndHash(const QByteArray &plaintext);
    std::optional<QByteArray> decryptAndHash(const QByteArray &ciphertext);
    void split();
    void fail(const QByteArray &why);
    void sendFrame(const QByteArray &message);

    void writeFirstMessage();
    void writeSecondMessage();
    void writeThirdMessage();
    void handleMessage(const QByteArray &message);
    bool readSecondMessage(const QByteArray &message);
    bool readThirdMessage(const QByteArray &message);
    bool checkPayload(const QByteArray &payload);

    Role m_role;
    IdentityKey m_identity;
    std::optional<PeerId> m_expectedPeer;
    State m_state = State::Handshaking;
    int m_messagesDone = 0; // handshake messages sent or received so far
    QByteArray m_error;

    // The Noise HandshakeState and SymmetricState.
    QByteArray m_chainingKey;
    QByteArray m_hash;
    CipherState m_handshakeCipher;
    NoiseCrypto::KeyPair m_static;
    NoiseCrypto::KeyPair m_ephemeral;
    QByteArray m_remoteStatic;
    QByteArray m_remoteEphemeral;

    CipherState m_sendCipher;
    CipherState m_receiveCipher;
    std::optional<PeerId> m_remotePeer;
    QByteArray m_remotePublicKey;

    QByteArray m_input;
    QByteArray m_output;
    QByteArray m_plaintext;
};
