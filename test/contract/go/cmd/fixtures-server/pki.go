package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Teleport identity attributes ride as extra subject RDNs, not extensions.
var (
	oidTeleportCluster = asn1.ObjectIdentifier{1, 3, 9999, 1, 7}
	oidActiveRequests  = asn1.ObjectIdentifier{1, 3, 9999, 2, 8}
)

type pki struct {
	caCert     *x509.Certificate
	caKey      crypto.Signer
	caPEM      []byte
	serverCert []byte
	serverKey  crypto.Signer
}

func newKey(kind string) crypto.Signer {
	if kind == "rsa" {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		panic(err)
	}
	return n
}

// keyPEM encodes the way Teleport does: PKCS#1 for RSA, PKCS#8 otherwise.
func keyPEM(k crypto.Signer) []byte {
	if r, ok := k.(*rsa.PrivateKey); ok {
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(r)})
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func newPKI(cluster string) *pki {
	caKey := newKey("ecdsa")
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cluster, Organization: []string{cluster}},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		panic(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		panic(err)
	}
	p := &pki{caCert: caCert, caKey: caKey, caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})}

	p.serverKey = newKey("ecdsa")
	srvTmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "auth", Organization: []string{"Auth"}},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:     []string{"teleport.cluster.local", "*.teleport.cluster.local", "localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	p.serverCert, err = x509.CreateCertificate(rand.Reader, srvTmpl, caCert, p.serverKey.Public(), caKey)
	if err != nil {
		panic(err)
	}
	return p
}

// issueClient signs a user certificate whose subject looks like Teleport's:
// CN = user, O = roles, plus the origin cluster as an extra RDN.
func (p *pki) issueClient(user string, roles []string, cluster string, pub crypto.PublicKey, activeRequests []string) ([]byte, error) {
	now := time.Now()
	extra := []pkix.AttributeTypeAndValue{{Type: oidTeleportCluster, Value: cluster}}
	for _, id := range activeRequests {
		extra = append(extra, pkix.AttributeTypeAndValue{Type: oidActiveRequests, Value: id})
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject: pkix.Name{
			CommonName:   user,
			Organization: roles,
			ExtraNames:   extra,
		},
		NotBefore:   now.Add(-time.Minute),
		NotAfter:    now.Add(12 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, pub, p.caKey)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// writePrivate writes through a temp file and rename so a reader never sees
// a partial key, with owner-only permissions.
func writePrivate(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
