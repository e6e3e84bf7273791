def test_login_pull_push_roundtrip(world):
    alice = world.phone("alice")
    changes = alice.pull_all()
    accounts = [c for c in changes if c["entity"] == "account"]
    assert len(accounts) == 3
