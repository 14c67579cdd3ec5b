from core.signatures import SigningKey, VerifyKey, canonical_json, seed_of


def test_the_canonical_form_ignores_key_order_and_keeps_vietnamese():
    assert canonical_json({"b": 1, "a": "Việt"}) == canonical_json({"a": "Việt", "b": 1})
    assert canonical_json({"a": "Việt"}) == '{"a":"Việt"}'.encode()


def test_a_signature_verifies_only_the_value_it_signed():
    key = SigningKey.generate("k1")
    signature = key.sign({"number": "123", "kind": "birth_certificate"})
    public = key.public()
    assert public.verify({"kind": "birth_certificate", "number": "123"}, signature)
    assert not public.verify({"kind": "birth_certificate", "number": "124"}, signature)
    assert not SigningKey.generate("k2").public().verify({"kind": "birth_certificate", "number": "123"},
                                                          signature)


def test_malformed_keys_and_signatures_are_false_not_errors():
    key = SigningKey.generate("k1")
    assert not VerifyKey("k", "not-a-key").verify({}, key.sign({}))
    assert not key.public().verify({}, "%%%")
    assert not key.public().verify({}, "")


def test_a_seed_round_trips_to_the_same_public_key():
    key = SigningKey.generate("k1")
    assert SigningKey.from_seed("k1", seed_of(key)).public() == key.public()
    assert key.public().jwk()["kty"] == "OKP"
