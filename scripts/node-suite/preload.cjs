// Preload for Node's own test suite: swaps routebind in for net.connect / net.createConnection, net.createServer,
// dgram.createSocket, http.Agent and http.globalAgent, so Node's tests for those modules exercise routebind.
// usage: node -r scripts/node-suite/preload.cjs test/parallel/test-net-xyz.js
'use strict';
const path = require('node:path');
const net = require('node:net');
const dgram = require('node:dgram');
const http = require('node:http');
const routebind = require(process.env.ROUTEBIND_ROOT || path.join(__dirname, '..', '..'));

net.connect = routebind.connect;
net.createConnection = routebind.createConnection;
net.createServer = routebind.createServer;
dgram.createSocket = routebind.createSocket;
http.Agent = routebind.Agent;
// http.get() without an agent uses http.globalAgent, made from Node's own Agent at load: swap it
// too (same options), so requests without an agent and patches of http.Agent.prototype reach routebind.
http.globalAgent = new routebind.Agent({ ...http.globalAgent.options });
