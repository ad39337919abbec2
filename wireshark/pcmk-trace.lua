-- pcmk-trace.lua: a Wireshark/tshark dissector for pcmk-trace capture files.
--
-- Each packet (link type USER0) is pcmk-trace's pseudo-header (capfile/FORMAT.md) followed by
-- the libqb message bytes: the libqb header, then for Pacemaker services the 40-byte Pacemaker
-- envelope (dialect A: Pacemaker 2.1.x and 3.0.0, dialect B: 3.0.1+) and the XML, which is
-- handed to Wireshark's xml dissector. bzip2 bodies cannot be inflated in Lua and are shown
-- as compressed. Every field is filterable, e.g. pcmk.service == "cib_rw".
--
--   tshark -X lua_script:wireshark/pcmk-trace.lua -r capture.pcapng
--   wireshark -X lua_script:wireshark/pcmk-trace.lua capture.pcapng
-- or copy it to ~/.local/lib/wireshark/plugins/.

local pcmk = Proto("pcmk", "Pacemaker IPC (pcmk-trace)")

local kinds = { [1] = "message", [2] = "connect", [3] = "disconnect", [4] = "loss" }
local channels = { [0] = "none", [1] = "request", [2] = "response", [3] = "event" }
local transports = { [0] = "unknown", [1] = "shm", [2] = "socket" }
local hooks = {
	[0] = "none", [1] = "rb_commit", [2] = "sock_send", [3] = "rb_peek",
	[4] = "rb_read", [5] = "sock_recv", [6] = "connect", [7] = "disconnect",
}
-- Loss causes, named as capfile and decode name them.
local causes = {
	[0] = "unknown", [1] = "ring_full", [2] = "copy_failed",
	[3] = "too_large", [4] = "reassembly",
}
local dialects = { [0] = "none", [1] = "A (2.1.x, 3.0.0)", [2] = "B (3.0.1+)" }

-- Pacemaker's crm_ipc_flags, by bit.
local ipc_flag_names = {
	{ 0x00000001, "compressed" },
	{ 0x00000100, "proxied" },
	{ 0x00000200, "client_response" },
	{ 0x00010000, "server_event" },
	{ 0x00020000, "server_free" },
	{ 0x00040000, "proxied_relay_response" },
	{ 0x00080000, "multipart" },
	{ 0x00100000, "multipart_end" },
}

local f = pcmk.fields
f.magic = ProtoField.string("pcmk.magic", "Magic")
f.version = ProtoField.uint16("pcmk.version", "Pseudo-header version")
f.hdr_len = ProtoField.uint16("pcmk.hdr_len", "Pseudo-header length")
f.kind = ProtoField.uint8("pcmk.kind", "Kind", base.DEC, kinds)
f.channel = ProtoField.uint8("pcmk.channel", "Channel", base.DEC, channels)
f.transport = ProtoField.uint8("pcmk.transport", "Transport", base.DEC, transports)
f.hook = ProtoField.uint8("pcmk.hook", "Hook", base.DEC, hooks)
f.flags = ProtoField.uint32("pcmk.flags", "Record flags", base.HEX)
f.truncated = ProtoField.bool("pcmk.truncated", "Truncated", 32, nil, 0x1)
f.more = ProtoField.bool("pcmk.more", "More packets follow", 32, nil, 0x2)
f.cont = ProtoField.bool("pcmk.cont", "Continuation", 32, nil, 0x4)
f.rx = ProtoField.bool("pcmk.rx", "Receive side", 32, nil, 0x8)
f.seq = ProtoField.uint64("pcmk.seq", "Message sequence")
f.orig_len = ProtoField.uint32("pcmk.orig_len", "Message length")
f.offset = ProtoField.uint32("pcmk.offset", "Offset in message")
f.pid = ProtoField.uint32("pcmk.pid", "Writer pid")
f.tid = ProtoField.uint32("pcmk.tid", "Writer tid")
f.ns_pid = ProtoField.uint32("pcmk.ns_pid", "Writer pid in its namespace")
f.uid = ProtoField.uint32("pcmk.uid", "Writer uid")
f.pidns = ProtoField.uint32("pcmk.pidns", "Pid namespace")
f.mntns = ProtoField.uint32("pcmk.mntns", "Mount namespace")
f.client_pid = ProtoField.uint32("pcmk.client_pid", "Client pid")
f.server_pid = ProtoField.uint32("pcmk.server_pid", "Server pid")
f.max_msg_size = ProtoField.uint32("pcmk.max_msg_size", "Max message size")
f.lost = ProtoField.uint32("pcmk.lost", "Messages lost")
f.cause = ProtoField.uint32("pcmk.cause", "Loss cause", base.DEC, causes)
f.comm = ProtoField.string("pcmk.comm", "Writer command")
f.service = ProtoField.string("pcmk.service", "Service")
f.conn = ProtoField.string("pcmk.conn", "Connection")

f.qb_id = ProtoField.int32("pcmk.qb.id", "libqb id")
f.qb_size = ProtoField.int32("pcmk.qb.size", "libqb size")
f.qb_error = ProtoField.int32("pcmk.qb.error", "libqb error")

f.dialect = ProtoField.uint8("pcmk.dialect", "Envelope dialect", base.DEC, dialects)
f.size_uncompressed = ProtoField.uint32("pcmk.size_uncompressed", "Uncompressed size")
f.size_compressed = ProtoField.uint32("pcmk.size_compressed", "Compressed size")
f.part_size = ProtoField.uint32("pcmk.part_size", "Part size")
f.ipc_flags = ProtoField.uint32("pcmk.ipc_flags", "IPC flags", base.HEX)
f.ipc_flag_names = ProtoField.string("pcmk.ipc_flag_names", "IPC flag names")
f.ipc_version = ProtoField.uint8("pcmk.ipc_version", "IPC version")
f.part_id = ProtoField.uint16("pcmk.part_id", "Part id")
f.compressed = ProtoField.bool("pcmk.compressed", "bzip2 compressed")
f.root = ProtoField.string("pcmk.root", "XML root element")
f.op = ProtoField.string("pcmk.op", "Operation")

local ef_short = ProtoExpert.new("pcmk.short", "Packet shorter than its pseudo-header",
	expert.group.MALFORMED, expert.severity.ERROR)
local ef_magic = ProtoExpert.new("pcmk.bad_magic", "Not a pcmk-trace pseudo-header",
	expert.group.MALFORMED, expert.severity.ERROR)
local ef_loss = ProtoExpert.new("pcmk.loss", "Messages were lost",
	expert.group.SEQUENCE, expert.severity.WARN)
pcmk.experts = { ef_short, ef_magic, ef_loss }

local pacemaker_services = {
	cib_ro = true, cib_rw = true, cib_shm = true, crmd = true, attrd = true, lrmd = true,
	["stonith-ng"] = true, pacemakerd = true, pengine = true,
}

local xml_dissector = Dissector.get("xml")

local function cstring(tvb, off, len)
	return tvb(off, len):stringz()
end

local function flag_names(v)
	local names = {}
	for _, e in ipairs(ipc_flag_names) do
		if bit.band(v, e[1]) ~= 0 then
			names[#names + 1] = e[2]
			v = bit.band(v, bit.bnot(e[1]))
		end
	end
	if v ~= 0 then
		names[#names + 1] = string.format("0x%x", v)
	end
	return table.concat(names, "|")
end

-- dialect tells the Pacemaker envelope dialect from the first 40 bytes (as decode/ does).
local function dialect(tvb, off, qbsize)
	if tvb:len() < off + 40 then
		return 0
	end
	local b32, b33 = tvb(off + 32, 1):uint(), tvb(off + 33, 1):uint()
	local b36 = tvb(off + 36, 1):uint()
	local u24, u28 = tvb(off + 24, 4):le_uint(), tvb(off + 28, 4):le_uint()
	if b32 == 1 and b33 == 0 and tvb(off + 36, 4):le_uint() == 0 and u24 == qbsize - 40 then
		return 2
	end
	if b36 == 1 and tvb(off + 37, 1):uint() == 0 and tvb(off + 38, 2):le_uint() == 0 then
		return 1
	end
	return 0
end

-- The first attribute among these names in the root element is the operation.
local op_attrs = { "cib_op", "crm_task", "lrmd_op", "st_op", "task", "subt" }

local function xml_summary(s)
	local root = s:match("^%s*<([%w_:%-]+)")
	local op
	for _, a in ipairs(op_attrs) do
		op = s:match("^%s*<[^>]-%s" .. a .. '="([^"]*)"')
		if op then
			break
		end
	end
	return root, op
end

function pcmk.dissector(tvb, pinfo, tree)
	pinfo.cols.protocol = "PCMK"
	local t = tree:add(pcmk, tvb(), "Pacemaker IPC")
	if tvb:len() < 176 then
		t:add_proto_expert_info(ef_short)
		return
	end
	if tvb(0, 4):string() ~= "PCMK" then
		t:add_proto_expert_info(ef_magic)
		return
	end
	local hlen = tvb(6, 2):le_uint()
	local h = t:add(pcmk, tvb(0, hlen), "pcmk-trace pseudo-header")
	h:add(f.magic, tvb(0, 4))
	h:add_le(f.version, tvb(4, 2))
	h:add_le(f.hdr_len, tvb(6, 2))
	local kind = tvb(8, 1):uint()
	h:add(f.kind, tvb(8, 1))
	h:add(f.channel, tvb(9, 1))
	h:add(f.transport, tvb(10, 1))
	h:add(f.hook, tvb(11, 1))
	local fl = h:add_le(f.flags, tvb(12, 4))
	fl:add_le(f.truncated, tvb(12, 4))
	fl:add_le(f.more, tvb(12, 4))
	fl:add_le(f.cont, tvb(12, 4))
	fl:add_le(f.rx, tvb(12, 4))
	h:add_le(f.seq, tvb(16, 8))
	h:add_le(f.orig_len, tvb(24, 4))
	h:add_le(f.offset, tvb(28, 4))
	h:add_le(f.pid, tvb(32, 4))
	h:add_le(f.tid, tvb(36, 4))
	h:add_le(f.ns_pid, tvb(40, 4))
	h:add_le(f.uid, tvb(44, 4))
	h:add_le(f.pidns, tvb(48, 4))
	h:add_le(f.mntns, tvb(52, 4))
	h:add_le(f.client_pid, tvb(56, 4))
	h:add_le(f.server_pid, tvb(60, 4))
	h:add_le(f.max_msg_size, tvb(64, 4))
	h:add_le(f.lost, tvb(68, 4))
	h:add_le(f.cause, tvb(72, 4))
	h:add(f.comm, tvb(80, 16))
	h:add(f.service, tvb(96, 32))
	h:add(f.conn, tvb(128, 48))

	local channel = channels[tvb(9, 1):uint()] or "?"
	local service = cstring(tvb, 96, 32)
	local comm = cstring(tvb, 80, 16)
	local pid = tvb(32, 4):le_uint()
	local flags = tvb(12, 4):le_uint()
	local offset = tvb(28, 4):le_uint()
	local info = string.format("%s(%d) %s %s", comm, pid, service, channel)

	if kind == 4 then
		t:add_proto_expert_info(ef_loss)
		pinfo.cols.info = string.format("LOSS %d messages: %s", tvb(68, 4):le_uint(),
			causes[tvb(72, 4):le_uint()] or "?")
		return
	elseif kind ~= 1 then
		pinfo.cols.info = string.format("%s %s %s", kinds[kind] or "?", service, cstring(tvb, 128, 48))
		return
	end
	if bit.band(flags, 0x4) ~= 0 or offset ~= 0 then
		pinfo.cols.info = string.format("%s [continuation of message %s at byte %d]",
			info, tostring(tvb(16, 8):le_uint64()), offset)
		return
	end

	local off = hlen
	if tvb:len() < off + 16 then
		pinfo.cols.info = info .. " [short libqb header]"
		return
	end
	local q = t:add(pcmk, tvb(off), "libqb message")
	local qbsize = tvb(off + 8, 4):le_int()
	q:add_le(f.qb_id, tvb(off, 4))
	q:add_le(f.qb_size, tvb(off + 8, 4))
	if tvb:len() >= off + 24 then
		q:add_le(f.qb_error, tvb(off + 16, 4))
	end
	info = string.format("%s id=%d size=%d", info, tvb(off, 4):le_int(), qbsize)
	if not pacemaker_services[service] then
		pinfo.cols.info = info
		return
	end

	local d = dialect(tvb, off, qbsize)
	local e = q:add(pcmk, tvb(off, math.min(40, tvb:len() - off)), "Pacemaker envelope")
	e:add(f.dialect, d)
	if d == 0 then
		pinfo.cols.info = info .. " [unknown envelope]"
		return
	end
	local ipcflags, payload_len, compressed
	if d == 1 then
		e:add_le(f.size_uncompressed, tvb(off + 24, 4))
		e:add_le(f.size_compressed, tvb(off + 28, 4))
		ipcflags = tvb(off + 32, 4):le_uint()
		e:add_le(f.ipc_flags, tvb(off + 32, 4))
		e:add(f.ipc_version, tvb(off + 36, 1))
		compressed = bit.band(ipcflags, 1) ~= 0
		payload_len = compressed and tvb(off + 28, 4):le_uint() or tvb(off + 24, 4):le_uint()
	else
		e:add_le(f.part_size, tvb(off + 24, 4))
		ipcflags = tvb(off + 28, 4):le_uint()
		e:add_le(f.ipc_flags, tvb(off + 28, 4))
		e:add(f.ipc_version, tvb(off + 32, 1))
		e:add_le(f.part_id, tvb(off + 34, 2))
		compressed = false
		payload_len = tvb(off + 24, 4):le_uint()
	end
	local names = flag_names(ipcflags)
	e:add(f.ipc_flag_names, names)
	e:add(f.compressed, compressed)
	info = info .. " flags=" .. (names ~= "" and names or "0")

	local poff = off + 40
	local avail = tvb:len() - poff
	if avail <= 0 then
		pinfo.cols.info = info
		return
	end
	if compressed then
		t:add(pcmk, tvb(poff, avail), string.format("bzip2 body: %d bytes (%d uncompressed)",
			payload_len, tvb(off + 24, 4):le_uint()))
		pinfo.cols.info = info .. " [bzip2]"
		return
	end
	local n = math.min(payload_len, avail)
	if n > 0 and tvb(poff + n - 1, 1):uint() == 0 then
		n = n - 1 -- the XML text is NUL-terminated
	end
	if n <= 0 then
		pinfo.cols.info = info
		return
	end
	local head = tvb(poff, math.min(n, 512)):string()
	local root, op = xml_summary(head)
	if root then
		t:add(f.root, tvb(poff, math.min(n, #root + 1)), root)
		info = info .. " <" .. root .. ">"
	end
	if op then
		t:add(f.op, op)
		info = info .. " " .. op
	end
	if bit.band(ipcflags, 0x80000) ~= 0 then
		-- One part of a multipart message: the XML is whole only once reassembled.
		pinfo.cols.info = string.format("%s [part %d]", info, tvb(off + 34, 2):le_uint())
		return
	end
	if n == payload_len - 1 or n == payload_len then
		xml_dissector:call(tvb(poff, n):tvb(), pinfo, tree)
	end
	-- The xml dissector sets the columns to its own; ours say more.
	pinfo.cols.protocol = "PCMK"
	pinfo.cols.info = info
end

DissectorTable.get("wtap_encap"):add(wtap_encaps.USER0, pcmk)
