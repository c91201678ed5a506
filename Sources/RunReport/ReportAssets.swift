/// The page's inline style and script: no framework, nothing fetched.
enum ReportAssets {
    static let style = """
    :root{--ok:#2e9d4f;--unchanged:#7fb98f;--failed:#d33c3c;--timeout:#e08a1e;--unreachable:#8a4fbf;--auth_failed:#b0478f;\
    --hostkey_rejected:#b0478f;--become_failed:#b0478f;--error:#7a2b2b;--cancelled:#888;--skipped:#bbb;--not_reached:#e4e4e4;--held:#5b7fa8;--connect:#9cc3e6}
    body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}h1{font-size:1.3em;margin:0 0 .4em}h2{font-size:1.05em;margin:1.2em 0 .4em}
    dl{display:grid;grid-template-columns:max-content 1fr;gap:.1em 1em;margin:.5em 0}dt{color:#666}dd{margin:0;word-break:break-all}
    .warning{background:#fde2c5;padding:.4em .6em}.note{color:#555}
    #summary{display:flex;flex-wrap:wrap;gap:.4em}.count{border:0;border-radius:3px;padding:.3em .7em;color:#fff;cursor:pointer;font:inherit}
    .count[aria-pressed=true]{outline:3px solid #222}
    .tools{margin:.3em 0}.axis{color:#666;margin-left:1em}
    #timeline{border-top:1px solid #ddd}.row{display:grid;grid-template-columns:12em 1fr 5em auto;align-items:center;gap:.5em;
    padding:1px 0;border-bottom:1px solid #f0f0f0;cursor:pointer}.row:hover{background:#f6f8fb}.row.hidden{display:none}.batchrow{cursor:default;background:#fff}.batch{position:absolute;top:0;bottom:0;width:2px;background:#333}
    .name{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}.bar{position:relative;height:12px;background:#fafafa}
    .seg{position:absolute;top:1px;bottom:1px;border-radius:2px}.k-connect{top:3px;bottom:3px}.dur{text-align:right;color:#555}
    .badge{font-weight:normal;font-size:.8em;background:#fff3c4;padding:0 .3em;border-radius:2px}
    .s-ok{background:var(--ok)}.s-unchanged{background:var(--unchanged)}.s-failed{background:var(--failed)}.s-timeout{background:var(--timeout)}
    .s-unreachable{background:var(--unreachable)}.s-auth_failed,.s-hostkey_rejected,.s-become_failed{background:var(--auth_failed)}
    .s-error{background:var(--error)}.s-cancelled{background:var(--cancelled)}.s-skipped{background:var(--skipped)}
    .s-not_reached{background:var(--not_reached)}.s-held{background:var(--held)}.s-connect{background:var(--connect)}
    #details{border:1px solid #ccc;padding:.6em;margin:.6em 0;background:#fcfcfc}
    pre{background:#f4f4f4;padding:.5em;overflow:auto;max-height:24em;margin:.3em 0}pre.stderr{background:#fbeeee}
    .scroll{overflow:auto;max-height:40em}#matrix{border-collapse:collapse}#matrix td{width:1.4em;height:1.1em;border:1px solid #fff}
    #matrix th{font-weight:normal;text-align:left;padding-right:.6em;white-space:nowrap}.step{font-family:monospace}
    .output summary{cursor:pointer}
    """

    static let script = """
    (function(){
    var data=JSON.parse(document.getElementById('data').textContent);
    var timeline=document.getElementById('timeline'),rows=[].slice.call(timeline.children),details=document.getElementById('details');
    var chosen={};
    function esc(t){return String(t==null?'':t).replace(/[&<>"]/g,function(c){return{'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c];});}
    function apply(){var q=document.getElementById('search').value.toLowerCase(),any=Object.keys(chosen).length>0;
    rows.forEach(function(r){var show=(!any||chosen[r.dataset.status])&&(!q||r.dataset.host.toLowerCase().indexOf(q)>=0);r.classList.toggle('hidden',!show);});}
    [].forEach.call(document.querySelectorAll('#summary .count'),function(b){b.addEventListener('click',function(){
    var s=b.dataset.status;if(chosen[s]){delete chosen[s];b.setAttribute('aria-pressed','false');}else{chosen[s]=1;b.setAttribute('aria-pressed','true');}apply();});});
    document.getElementById('search').addEventListener('input',apply);
    document.getElementById('sort').addEventListener('change',function(){var k=this.value;var sorted=rows.slice();
    function num(r,a){var v=r.dataset[a];return v===''?-1:+v;}
    sorted.sort(function(a,b){if(k==='name')return a.dataset.host.localeCompare(b.dataset.host);
    if(k==='run')return num(b,'runMs')-num(a,'runMs');if(k==='connect')return num(b,'connectMs')-num(a,'connectMs');
    if(k==='status')return a.dataset.status.localeCompare(b.dataset.status);return a.dataset.i-b.dataset.i;});
    sorted.forEach(function(r){timeline.appendChild(r);});});
    function show(i){var h=data.hosts[i];if(!h)return;var o=h.o==null?null:document.getElementById('output-'+h.o);
    var html='<h3>'+esc(h.n)+' — '+esc(h.s)+'</h3><dl>';
    function fact(n,v){if(v!=null&&v!==''&&!(v instanceof Array&&!v.length))html+='<dt>'+n+'</dt><dd>'+esc(v)+'</dd>';}
    fact('exit code',h.x);fact('signal',h.g);fact('error',h.e);fact('via',h.v.join(' → '));
    fact('connect',h.c==null?null:h.c+' ms');fact('run',h.r==null?null:h.r+' ms');html+='</dl>';
    h.seg.forEach(function(s){html+='<div>'+esc(s[0])+' '+esc(s[1])+': '+esc(s[2])+'–'+esc(s[3])+' ms '+esc(s[4])+'</div>';});
    details.innerHTML=html;
    if(o){[].forEach.call(o.querySelectorAll('pre'),function(p){details.appendChild(p.cloneNode(true));});}details.hidden=false;details.dataset.host=h.n;}
    timeline.addEventListener('click',function(e){var r=e.target.closest('.row');if(r){history.replaceState(null,'','#host='+encodeURIComponent(r.dataset.host));show(+r.dataset.i);}});
    function fromHash(){var m=location.hash.match(/^#host=(.*)$/);if(!m)return;var name=decodeURIComponent(m[1]);
    for(var i=0;i<data.hosts.length;i++){if(data.hosts[i].n===name){show(i);rows[i].scrollIntoView({block:'center'});return;}}}
    window.addEventListener('hashchange',fromHash);fromHash();
    })();
    """
}
