// Preload for Node's own test suite: swaps routebind in for net.connect / net.createConnection,
// dgram.createSocket and http.Agent, so Node's tests for those modules exercise routebind.
// usage: node -r scripts/node-suite/preload.cjs test/parallel/test-net-xyz.js
'use strict';
const path = require('node:path');
const net = require('node:net');
const dgram = require('node:dgram');
const http = require('node:http');
const routebind = require(process.env.ROUTEBIND_ROOT || path.join(__dirname, '..', '..'));

net.connect = routebind.connect;
net.createConnection = routebind.createConnection;
dgram.createSocket = routebind.createSocket;
http.Agent = routebind.Agent;
