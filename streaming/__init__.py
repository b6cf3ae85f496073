"""Vitrine media relay: ingest a host's camera over WebRTC, encode it once, fan the
same encoded packets out to every viewer, and record / segment them for replays."""
