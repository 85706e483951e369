# Makes the certificates the security end-to-end test needs, with the openssl CLI, in $1:
#   ca.pem ca-key.pem                  the test CA
#   server-cert.pem server-key.pem     IP:127.0.0.1 (proxy, engine and decider), and the IP
#                                      addresses given after $1 (an engine's own address)
#   client/{ca,cert,key}.pem           a docker user (DOCKER_CERT_PATH layout)
#   proxy-cert.pem proxy-key.pem       flocker-proxy as a client of engines and the decider
#   other/{ca,cert,key}.pem            a user whose certificate another CA signed
#   expired/{ca,cert,key}.pem          a user whose certificate expired (signed by the test CA)
make_test_certs() {
  local d=$1 san="IP:127.0.0.1,DNS:localhost" ip
  shift
  for ip in "$@"; do san+=",IP:$ip"; done
  mkdir -p "$d/client" "$d/other" "$d/expired" "$d/newcerts"
  (
    cd "$d"
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
    ca() {  # ca DIR NAME
      key "$1/ca-key.pem"
      openssl req -x509 -new -key "$1/ca-key.pem" -out "$1/ca.pem" -days 30 -subj "/O=flocker e2e/CN=$2" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    }
    issue() {  # issue CA_DIR KEY CERT CN USAGE [SAN]
      key "$2"
      openssl req -new -key "$2" -subj "/O=flocker e2e/CN=$4" -out "$3.csr" 2>/dev/null
      printf 'subjectAltName=%s\nextendedKeyUsage=%s\nbasicConstraints=CA:FALSE\n' "${6:-IP:127.0.0.1,DNS:localhost}" "$5" >"$3.ext"
      openssl x509 -req -in "$3.csr" -CA "$1/ca.pem" -CAkey "$1/ca-key.pem" -CAcreateserial -days 30 \
        -extfile "$3.ext" -out "$3" 2>/dev/null
      rm -f "$3.csr"
    }
    ca . flocker-e2e-ca
    issue . server-key.pem server-cert.pem flocker-e2e-server serverAuth,clientAuth "$san"
    issue . proxy-key.pem proxy-cert.pem flocker-proxy clientAuth
    issue . client/key.pem client/cert.pem e2e-user clientAuth
    cp ca.pem client/ca.pem
    mkdir -p other-ca && ca other-ca some-other-ca
    issue other-ca other/key.pem other/cert.pem stranger clientAuth
    cp ca.pem other/ca.pem
    # Expired: `openssl ca` takes explicit start and end dates.
    : >index.txt
    echo 1000 >serial
    cat >ca.cnf <<CNF
[ ca ]
default_ca = test
[ test ]
database = $d/index.txt
new_certs_dir = $d/newcerts
serial = $d/serial
default_md = sha256
policy = any
[ any ]
commonName = supplied
CNF
    key expired/key.pem
    openssl req -new -key expired/key.pem -subj "/O=flocker e2e/CN=expired-user" -out expired.csr 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n' >expired.ext
    openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca-key.pem -in expired.csr -out expired/cert.pem \
      -startdate 20200101000000Z -enddate 20200201000000Z -notext -extfile expired.ext 2>/dev/null
    cp ca.pem expired/ca.pem
  )
}
